"""The dashboard with 100 000 submissions, on SQLite and PostgreSQL: latency of the list,
a filter, a search, the detail page and the overview, and exports of 100 000 rows (CSV and
XLSX: time and how much the serving process's memory grows).

The data is bench/export_memory.py's: bulk inserts of N submissions to one call and N/10 to
another (about 1 KB of Polish text each, a group of three people, rubric scores on a quarter,
a tag on a tenth). A reviewer of both calls is made with services.users.create_user; the
pages are read over HTTP from gunicorn (deploy/gunicorn.conf.py, 2 workers × 4 threads) by a
signed-in session, one request at a time. Memory: the resident set (RSS) of the gunicorn
worker that serves the export, sampled every 20 ms and its kernel peak (VmHWM, reset just
before), minus its RSS before the export.

    .venv/bin/python -m bench.dashboard [--rows 2000] [--database sqlite]"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
from pathlib import Path

from bench.client import Session
from bench.common import (
    Database,
    app_environment,
    database,
    distribution,
    gunicorn,
    process_tree,
    rss_mib,
    serving,
)

PASSWORD = "bench-password-not-secret"  # noqa: S105 (a throwaway database)
REVIEWER = "reviewer@example.org"
TARGET_MS = 150
MEMORY_TARGET_MIB = 50
TARGETED = ("list", "filter (call, state, tag)", "search", "detail")  # the four pages


def fill(db: Database, rows: int) -> dict:
    """The export benchmark's data, and a reviewer of both calls. Returns form ids and
    the seconds it took."""
    os.environ["FORMDESK_INSTANCE_PATH"] = str(db.directory / "instance")
    from app import create_app
    from bench.export_memory import fill as bulk_fill
    from extensions import db as sqla

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": db.url,
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "FORMDESK_UPLOAD_DIR": str(db.directory / "uploads"),
        }
    )
    began = time.perf_counter()
    with app.app_context():
        from services.users import create_user

        scorers = [create_user(f"scorer{i}@example.org", PASSWORD, "admin").id for i in range(2)]
        small = max(rows // 10, 1)
        ids = {
            "small": bulk_fill(app, "small", small, 1, scorers),
            "large": bulk_fill(app, "large", rows, small + 1, scorers),
        }
        create_user(REVIEWER, PASSWORD, "reviewer", "Bench Reviewer", form_slugs=("small", "large"))
        sqla.session.commit()
        _search_texts(sqla, rows + small)
        if db.kind == "postgresql":
            # What autovacuum does within a minute of a bulk load (since PostgreSQL 13 inserts
            # alone start it): statistics, and the visibility map that index-only scans and
            # cheap counts need. Without it the list took 265 ms instead of 95 in-process.
            # SQLite has no such job.
            with sqla.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        sqla.session.remove()
        sqla.engine.dispose()
    return {"ids": ids, "fill_seconds": time.perf_counter() - began, "small_rows": small}


def _search_texts(sqla, count: int, batch: int = 5000) -> None:
    """Bulk inserts skip the ORM's flush, which keeps the submissions' search texts (and
    through them SQLite's FTS5 index) current: compute them as the app would have."""
    import services.search as search

    refresh = getattr(search, "refresh_search_texts", None)
    if refresh is None:  # search without stored texts
        return
    with sqla.engine.begin() as connection:
        for first in range(1, count + 1, batch):
            refresh(connection, range(first, min(first + batch, count + 1)))


def sign_in(url: str) -> Session:
    # An XLSX of 100 000 rows is made before its first byte is sent: minutes on a busy
    # machine, so the client waits long.
    session = Session(url, timeout=1800)
    session.get("/login")
    session.post("/login", {"email": REVIEWER, "password": PASSWORD})
    if session.redirected_path() != "/dashboard/":
        raise RuntimeError(f"sign-in went to {session.location!r}")
    return session


def timed(session: Session, paths: list[str], budget: float = 60.0) -> list[float]:
    """Each path once, in order, until `budget` seconds are spent (at least three)."""
    seconds: list[float] = []
    for path in paths:
        seconds.append(session.get(path))
        if len(seconds) >= 3 and sum(seconds) > budget:
            break
    return seconds


class MemoryWatch:
    """The largest RSS growth of any of the server's processes while it runs."""

    def __init__(self, server_pid: int):
        self.pids = [p for p in process_tree(server_pid) if p != server_pid]
        self.before = {pid: rss_mib(pid) for pid in self.pids}
        self.peak = dict(self.before)
        for pid in self.pids:  # reset the kernel's peak (VmHWM) to the current RSS
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                pass
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_mib(pid))
            time.sleep(0.02)

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        growth = 0.0
        for pid in self.pids:
            peak = max(self.peak[pid], _hwm_mib(pid))
            growth = max(growth, peak - self.before[pid])
        return growth


def _hwm_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def export(session: Session, server_pid: int, path: str) -> dict:
    watch = MemoryWatch(server_pid)
    began = time.perf_counter()
    try:
        session.get(path)
    except Exception as exc:  # noqa: BLE001  (reported in the table; the other figures stay)
        watch.stop()
        session.close()
        return {"failed": f"{type(exc).__name__}: {exc}"[:200]}
    seconds = time.perf_counter() - began
    growth = watch.stop()
    return {"seconds": seconds, "bytes": len(session.body), "rss_growth_mib": growth}


def pages(rows: int, small_rows: int, repeat: int) -> dict[str, list[str]]:
    """The pages read, each `repeat` times (search terms and detail pages drawn with a
    fixed seed, so bench/dashboard_inprocess.py reads the same ones)."""
    chooser = random.Random(7)  # noqa: S311  (which rows to open, not secrets)
    return {
        "overview": ["/dashboard/"] * repeat,
        "list": ["/dashboard/submissions"] * repeat,
        "list, page 500": ["/dashboard/submissions?page=500"] * repeat,
        "filter (call, state, tag)": [
            "/dashboard/submissions?form=large&state=in_review&tag=priority"
        ]
        * repeat,
        "filter (dates)": ["/dashboard/submissions?from=2026-11-20&to=2026-11-21"] * repeat,
        "search": [
            f"/dashboard/submissions?q=filia+nr+{chooser.randrange(rows)}+%E2%80%94"
            for _ in range(repeat)
        ],
        "detail": [
            f"/dashboard/submissions/{small_rows + 1 + chooser.randrange(rows)}"
            for _ in range(repeat)
        ],
    }


def measure_on(kind: str, rows: int, repeat: int) -> dict:
    with database(kind, "dashboard") as db:
        filled = fill(db, rows)
        large, small = filled["ids"]["large"], filled["ids"]["small"]
        env = app_environment(
            db,
            FLASK_FORMDESK_LOAD_FORMS_ON_START="false",
            FLASK_FORMDESK_EMBEDDED_WORKER="false",
        )
        server = gunicorn("app:create_app()", env, db.directory / "gunicorn.log")
        with serving(server):
            session = sign_in(server.url)
            pages_read = pages(rows, filled["small_rows"], repeat)
            for paths in pages_read.values():  # once each first: templates, caches, plans
                session.get(paths[0])
            latencies = {
                name: distribution(timed(session, paths)) for name, paths in pages_read.items()
            }
            exports = {
                kind_: export(session, server.process.pid, f"/dashboard/exports/{large}.{kind_}")
                for kind_ in ("csv", "xlsx")
            }
            small_exports = {
                kind_: export(session, server.process.pid, f"/dashboard/exports/{small}.{kind_}")
                for kind_ in ("csv", "xlsx")
            }
    return {
        "database": kind,
        "rows": rows,
        "fill_seconds": filled["fill_seconds"],
        "pages": latencies,
        "exports": exports,
        "small_exports": small_exports,
        "small_rows": filled["small_rows"],
    }


def measure(quick: bool, databases: tuple[str, ...], rows: int | None = None) -> dict:
    rows = rows or (2000 if quick else 100_000)
    repeat = 5 if quick else 20
    results = [measure_on(kind, rows, repeat) for kind in databases]
    return {"rows": rows, "repeat": repeat, "results": results}


def report(data: dict) -> str:
    lines = [
        f"## 4. Dashboard and exports at {data['rows']} submissions (`bench/dashboard.py`)",
        "",
        f"{data['rows']} submissions to one call and {data['rows'] // 10} to another "
        "(bench/export_memory.py's bulk data), read by a signed-in reviewer of both over HTTP "
        f"from gunicorn, one request at a time, {data['repeat']} times each after one "
        "unmeasured request (fewer, at least 3, when a page's requests pass 60 s; n below). "
        "Search: a branch name (`filia nr 4242 —`), which matches a handful of submissions; "
        "detail: random submissions of the large call; overview: counts per state, places "
        "and submissions per day for each call.",
        "",
        "| page | "
        + " | ".join(f"{r['database']} n | p50 ms | p95 ms" for r in data["results"])
        + " |",
        "|---|" + "--:|--:|--:|" * len(data["results"]),
    ]
    names = list(data["results"][0]["pages"])
    for name in names:
        cells = " | ".join(
            f"{r['pages'][name]['n']} | {r['pages'][name]['p50']:.0f} "
            f"| {r['pages'][name]['p95']:.0f}"
            for r in data["results"]
        )
        lines.append(f"| {name} | {cells} |")
    lines += [
        "",
        "| export | database | rows | seconds | size MiB | RSS growth MiB |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for r in data["results"]:
        for _size, exports, count in (
            ("small", r["small_exports"], r["small_rows"]),
            ("large", r["exports"], r["rows"]),
        ):
            for kind, e in exports.items():
                if "failed" in e:
                    lines.append(
                        f"| {kind.upper()} | {r['database']} | {count} | failed: {e['failed']} "
                        "| | |"
                    )
                    continue
                lines.append(
                    f"| {kind.upper()} | {r['database']} | {count} | {e['seconds']:.1f} "
                    f"| {e['bytes'] / 2**20:.1f} | {e['rss_growth_mib']:.1f} |"
                )
    lines.append("")
    for r in data["results"]:
        slow = [n for n in TARGETED if r["pages"][n]["p95"] > TARGET_MS]
        heavy = [
            k for k, e in r["exports"].items() if e.get("rss_growth_mib", 1e9) > MEMORY_TARGET_MIB
        ]
        lines.append(
            f"- {r['database']}: list, filter, search, detail p95 ≤ {TARGET_MS} ms: "
            + ("**met**" if not slow else f"**missed** by {', '.join(slow)}")
            + f"; exports' memory growth ≤ {MEMORY_TARGET_MIB} MiB: "
            + ("**met**" if not heavy else f"**missed** by {', '.join(heavy)}")
            + f" (filling took {r['fill_seconds']:.0f} s)."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args()
    data = measure(args.quick, tuple(args.database or ("sqlite", "postgresql")), args.rows)
    print(report(data))
