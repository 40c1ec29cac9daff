"""A slow SMTP server must not slow down submitting: the receipt is queued in the outbox
and delivered by the embedded worker's background thread. The same load runs twice on
fresh databases — with an SMTP server (aiosmtpd, in this process) that answers at once, and
with one that waits 2 s before answering each message's DATA — and the ratio of the two
p95 latencies of "Send" is the figure (target ≤ 1.2).

Formdesk runs under gunicorn (deploy/gunicorn.conf.py, 2 workers × 4 threads) with the
embedded worker on: each process also makes the PDF and DOCX copies and delivers email, as
a one-machine installation does.

    .venv/bin/python -m bench.smtp [--database sqlite] [--quick]"""

from __future__ import annotations

import asyncio
import threading
from contextlib import ExitStack

from aiosmtpd.controller import Controller

from bench import loadgen
from bench.common import command_line, database, free_port, serving
from bench.submit import formdesk_server, submit_once


class SlowInbox:
    """Accepts every message after `delay` seconds (asyncio.sleep: other connections are
    served meanwhile, like a remote server that is slow for everyone)."""

    def __init__(self, delay: float):
        self.delay = delay
        self.received = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.received += 1
        return "250 OK"


class Setup:
    """An SMTP server with `delay`, a fresh database and Formdesk pointed at both."""

    def __init__(self, stack: ExitStack, kind: str, delay: float):
        self.delay = delay
        self.inbox = SlowInbox(delay)
        port = free_port()
        controller = Controller(self.inbox, hostname="127.0.0.1", port=port)
        controller.start()
        stack.callback(controller.stop)
        self.db = stack.enter_context(database(kind, "smtp"))
        server = formdesk_server(
            self.db,
            embedded_worker=True,
            FLASK_MAIL_SERVER="127.0.0.1",
            FLASK_MAIL_PORT=str(port),
            FLASK_MAIL_DEFAULT_SENDER="calls@formdesk.example.org",
        )
        self.server = stack.enter_context(serving(server))
        self.rounds: list[loadgen.LoadResult] = []
        self.numbers = loadgen.Counter()  # a new email address for every submission

    def round(self, users: int, seconds: float, think: float, warmup: float) -> None:
        self.rounds.append(
            loadgen.run(
                self.server.url,
                submit_once,
                users,
                seconds,
                warmup=warmup,
                server_pid=self.server.process.pid,
                numbers=self.numbers,
                pause=think,  # a person reads the confirmation
            )
        )

    def result(self) -> dict:
        merged = loadgen.merge(self.rounds)
        summary = merged.summary()
        return {
            "delay": self.delay,
            "send": summary["steps"].get("POST send"),
            "requests": summary["requests"],
            "iteration": summary["iteration"],
            "submissions": merged.iterations,
            "errors": merged.errors,
            "first_error": merged.first_error,
            "delivered": self.inbox.received,
            "outbox": dict(self.db.query("SELECT status, count(*) FROM outbox GROUP BY status")),
            "documents": self.db.query("SELECT count(*) FROM documents")[0][0],
        }


def measure_on(kind: str, quick: bool) -> dict:
    """Both servers run side by side and are measured in alternating rounds. Below
    saturation on purpose: the question is whether a slow SMTP server makes people wait,
    not how the embedded worker's documents compete with requests for the CPU."""
    rounds, users, seconds, think = (1, 2, 4.0, 0.5) if quick else (3, 2, 12.0, 0.5)
    with ExitStack() as stack:
        fast = Setup(stack, kind, 0.0)
        slow = Setup(stack, kind, 2.0)
        for number in range(rounds):
            warmup = 3.0 if number == 0 else 1.0
            fast.round(users, seconds, think, warmup)
            slow.round(users, seconds, think, warmup)
        fast_result, slow_result = fast.result(), slow.result()
    return {
        "database": kind,
        "rounds": rounds,
        "users": users,
        "seconds": seconds,
        "think": think,
        "fast": fast_result,
        "slow": slow_result,
        "ratio": slow_result["iteration"]["p95"] / fast_result["iteration"]["p95"],
        "send_ratio": slow_result["send"]["p95"] / fast_result["send"]["p95"],
    }


def measure(quick: bool, databases: tuple[str, ...]) -> dict:
    return {"results": [measure_on(kind, quick) for kind in databases]}


def report(data: dict) -> str:
    first = data["results"][0]
    lines = [
        "## 3. Slow SMTP server (`bench/smtp.py`)",
        "",
        f"{first['users']} users submitting, {first['think']} s pause after each "
        f"confirmation; the two servers side by side, measured in {first['rounds']} "
        f"alternating rounds of {first['seconds']:.0f} s each. Embedded worker on (it makes "
        "the PDF and DOCX copies and delivers email inside the web processes). The SMTP "
        "server is aiosmtpd in the benchmark's process; the slow one waits 2 s before "
        "answering DATA.",
        "",
        "A submission is the four requests of part 1 (GET page, POST page, GET check, "
        "POST send); its p95 is the figure, beside the p95 of *Send* alone. A submission "
        "that failed (an error page, a timeout) counts as an error, not in the latencies.",
        "",
        "| database | SMTP | submissions | errors | submission p50 ms | submission p95 ms "
        "| Send p95 ms | emails delivered | outbox at the end | documents made |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|--:|",
    ]
    for r in data["results"]:
        for name in ("fast", "slow"):
            run = r[name]
            outbox = ", ".join(f"{k} {v}" for k, v in sorted(run["outbox"].items()))
            lines.append(
                f"| {r['database']} | {name} ({run['delay']:.0f} s) | {run['submissions']} "
                f"| {run['errors']} | {run['iteration']['p50']:.0f} "
                f"| {run['iteration']['p95']:.0f} | {run['send']['p95']:.0f} "
                f"| {run['delivered']} | {outbox} | {run['documents']} |"
            )
    lines.append("")
    for r in data["results"]:
        failed = r["slow"]["errors"] + r["fast"]["errors"]
        verdict = "meets" if r["ratio"] <= 1.2 and not failed else "misses"
        lines.append(
            f"- **{r['database']}: submission p95 slow ÷ fast = {r['ratio']:.2f}** ({verdict} "
            f"the target ≤ 1.2{'' if not failed else f'; {failed} submissions failed'}); "
            f"Send alone {r['send_ratio']:.2f}."
            + (f" First error: {r['slow']['first_error'][:200]}" if r["slow"]["errors"] else "")
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    command_line(__doc__, measure, report, ("sqlite", "postgresql"))
