"""Formdesk's benchmarks in one run, on one machine: `make bench` (about 12–20 minutes) or

    .venv/bin/python -m bench.run                   # everything; writes BENCHMARKS.md
    .venv/bin/python -m bench.run --quick           # small sizes (a few minutes); writes
                                                    # bench/results/quick.md, not BENCHMARKS.md
    .venv/bin/python -m bench.run --part rush --part smtp --database sqlite
                                                    # some parts: bench/results/partial.md

Parts: submit (throughput against a reference app), rush (deadline rush), smtp (slow SMTP
server), dashboard (100 000 submissions: pages and exports), documents (PDF and DOCX against
the bare libraries), builder_preview (the builder's preview of a 40-question draft). Each
part runs in its own process, so one that fails is reported and
the others still run. Raw figures go to bench/results/ as JSON (ignored by git); the report
ends with bench/NOTES.md (what was found and fixed, with before/after figures)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("submit", "rush", "smtp", "dashboard", "documents", "builder_preview")
RESULTS = ROOT / "bench" / "results"


def run_part(name: str, quick: bool, databases: tuple[str, ...], out: Path) -> None:
    """In this (child) process: measure one part and write its figures as JSON."""
    sys.path.insert(0, str(ROOT))
    module = importlib.import_module(f"bench.{name}")
    data = module.measure(quick, databases)
    out.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


def _child(name: str, quick: bool, databases: tuple[str, ...], out: Path) -> tuple[bool, str]:
    command = [sys.executable, "-m", "bench.run", "--child", name, "--json", str(out)]
    command += ["--quick"] if quick else []
    for kind in databases:
        command += ["--database", kind]
    log = out.with_suffix(".log")
    with open(log, "w") as output:
        code = subprocess.call(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    if code != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        return False, "\n".join(tail)
    return True, ""


def _git(*args: str) -> str:
    try:
        command = ["git", *args]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
        return done.stdout.strip()
    except OSError:
        return ""


def _header(command: str, machine: dict, began: datetime, load_after, elapsed: float) -> str:
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    dirty = " (with uncommitted changes in the working tree)" if dirty else ""
    load_before = ", ".join(f"{x:.1f}" for x in machine["load_average"])
    return "\n".join(
        [
            "# Benchmarks",
            "",
            "Written by `make bench` (`.venv/bin/python -m bench.run`); every figure below is "
            "from one run on one machine. Compare the ratios, which hold across machines, "
            "more than the absolute numbers. No test asserts a timing: `tests/test_bench_quick.py`"
            " runs the quick mode only to show the scripts work and count correctly.",
            "",
            f"- **Command:** `{command}`",
            f"- **Date:** {began:%Y-%m-%d %H:%M} UTC, {elapsed / 60:.1f} minutes",
            f"- **Code:** commit {_git('rev-parse', '--short', 'HEAD')}{dirty}",
            f"- **Machine:** {machine['cpus']} CPUs ({machine['cpu_model']}), "
            f"{machine['memory_gib']} GiB memory, Linux {machine['kernel']}",
            f"- **Software:** Python {machine['python']}, SQLite {machine['sqlite']}, "
            f"PostgreSQL {machine['postgresql']} (on the same machine)",
            f"- **Load average** (1, 5, 15 min) at the start: {load_before}; at the end: "
            + ", ".join(f"{x:.1f}" for x in load_after)
            + ". The machine is shared with other work; a load above the CPU count means "
            "the figures are slower than on an idle machine, the ratios less so.",
            "",
        ]
    )


def _summary(results: dict) -> str:
    """One line per target: the figure, the target, met or missed."""
    rows = []

    def row(what: str, figure: str, target: str, met: bool | None) -> None:
        verdict = "—" if met is None else ("met" if met else "**missed**")
        rows.append(f"| {what} | {figure} | {target} | {verdict} |")

    if "submit" in results:
        for r in results["submit"]["results"]:
            row(
                f"submit throughput ÷ reference, {r['database']}",
                f"{r['ratio']:.2f}",
                "≥ 0.6",
                r["ratio"] >= 0.6,
            )
    if "rush" in results:
        for r in results["rush"]["results"]:
            row(
                f"rush {r['people']} for {r['seats']} seats, {r['database']}",
                f"{r['states'].get('confirmed', 0)} confirmed, "
                f"{r['states'].get('waitlisted', 0)} waitlisted, {r['stored']} stored; "
                f"p99 {r['send']['p99']:.0f} ms",
                f"exactly {r['seats']} / {r['people'] - r['seats']}, none lost",
                r["correct"],
            )
    if "smtp" in results:
        for r in results["smtp"]["results"]:
            failed = r["fast"]["errors"] + r["slow"]["errors"]
            row(
                f"submission p95 with 2 s SMTP ÷ fast SMTP, {r['database']}",
                f"{r['ratio']:.2f}" + (f" ({failed} failed)" if failed else ""),
                "≤ 1.2",
                r["ratio"] <= 1.2 and not failed,
            )
    if "dashboard" in results:
        data = results["dashboard"]
        for r in data["results"]:
            for name in ("list", "filter (call, state, tag)", "search", "detail"):
                p95 = r["pages"][name]["p95"]
                row(
                    f"dashboard {name} p95 at {data['rows']} rows, {r['database']}",
                    f"{p95:.0f} ms",
                    "≤ 150 ms",
                    p95 <= 150,
                )
            for kind, e in r["exports"].items():
                what = f"{kind.upper()} export of {data['rows']} rows, {r['database']}"
                if "failed" in e:
                    row(what, f"failed: {e['failed'][:80]}", "≤ 50 MB growth", False)
                    continue
                row(
                    what,
                    f"{e['seconds']:.0f} s, memory +{e['rss_growth_mib']:.0f} MiB",
                    "≤ 50 MB growth",
                    e["rss_growth_mib"] <= 50,
                )
    if "documents" in results:
        for name, ratio in results["documents"].get("ratios", {}).items():
            row(name, f"{ratio:.2f}", "≤ 1.3", ratio <= 1.3)
    if "builder_preview" in results:
        data = results["builder_preview"]
        for language, r in data["results"].items():
            row(
                f"builder preview of {data['questions']} questions, {language}, median",
                f"{r['median_ms']:.0f} ms",
                "< 100 ms",
                r["median_ms"] < 100,
            )
    if not rows:
        return ""
    return "\n".join(
        ["## Targets", "", "| figure | this run | target | |", "|---|---|---|---|", *rows, ""]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to see it works")
    parser.add_argument("--part", choices=PARTS, action="append", help="only these (repeat)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--output", type=Path, help="the report (default: see above)")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="ALL_JSON",
        help="write the report again from a run's bench/results/*-all.json (no measuring)",
    )
    parser.add_argument("--child", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    from bench.common import machine, postgres_available

    if args.render:
        render(args.render, args.output or ROOT / "BENCHMARKS.md")
        return
    databases = tuple(args.database or ("sqlite", "postgresql"))
    if args.child:
        run_part(args.child, args.quick, databases, args.json)
        return
    if "postgresql" in databases and not postgres_available():
        if args.database:
            raise SystemExit("PostgreSQL is not reachable (FORMDESK_BENCH_POSTGRES_URL)")
        print("PostgreSQL is not reachable: SQLite only", flush=True)
        databases = ("sqlite",)

    parts = args.part or list(PARTS)
    complete = not (args.quick or args.part or args.database)
    partial = RESULTS / ("quick.md" if args.quick else "partial.md")
    output = args.output or (ROOT / "BENCHMARKS.md" if complete else partial)
    command = (
        "make bench" if complete else ".venv/bin/python -m bench.run " + " ".join(sys.argv[1:])
    )
    if os.environ.get("FORMDESK_BENCH_COMMAND"):
        command = os.environ["FORMDESK_BENCH_COMMAND"]
    began, start = datetime.now(UTC), time.perf_counter()
    about = machine()
    stamp = began.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    results, failed = {}, {}
    for name in parts:
        part_began = time.perf_counter()
        print(f"== {name} …", flush=True)
        out = RESULTS / f"{stamp}-{name}.json"
        ok, problem = _child(name, args.quick, databases, out)
        took = time.perf_counter() - part_began
        if ok:
            results[name] = json.loads(out.read_text(encoding="utf-8"))
            print(importlib.import_module(f"bench.{name}").report(results[name]), flush=True)
        else:
            failed[name] = problem
            print(f"{name} FAILED:\n{problem}", flush=True)
        print(f"   ({took:.0f} s)", flush=True)
    elapsed = time.perf_counter() - start
    header = _header(command, about, began, os.getloadavg(), elapsed)
    _write(output, header, results, failed, notes=not args.quick)
    (RESULTS / f"{stamp}-all.json").write_text(
        json.dumps(
            {"machine": about, "header": header, "results": results, "failed": failed},
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    print(
        f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output} "
        f"in {elapsed / 60:.1f} minutes"
    )
    if failed:
        raise SystemExit(1)


def _sections(results: dict, failed: dict) -> list[str]:
    sections = []
    for name in PARTS:
        if name in results:
            sections.append(importlib.import_module(f"bench.{name}").report(results[name]))
        elif name in failed:
            sections.append(
                f"## {name}\n\nThis part failed in this run:\n\n```\n{failed[name]}\n```\n"
            )
    return sections


def _write(output: Path, header: str, results: dict, failed: dict, notes: bool) -> None:
    notes_file = ROOT / "bench" / "NOTES.md"
    text = "\n".join(
        [
            header,
            _summary(results),
            *_sections(results, failed),
            notes_file.read_text(encoding="utf-8") if notes and notes_file.exists() else "",
        ]
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text.rstrip() + "\n", encoding="utf-8")


def render(saved: Path, output: Path) -> None:
    """The report again from a run's saved figures (after bench/NOTES.md changed): same
    figures, same header; nothing is measured."""
    data = json.loads(saved.read_text(encoding="utf-8"))
    header = data.get("header")
    if header is None:  # saved before the header was: take it from the report itself
        header = output.read_text(encoding="utf-8").split("\n## Targets", 1)[0].rstrip() + "\n"
    _write(output, header, data["results"], data.get("failed", {}), notes=True)
    print(f"wrote {output} from {saved}")


if __name__ == "__main__":
    main()
