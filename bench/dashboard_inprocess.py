"""The dashboard's pages measured in one process, without a server: wall and CPU time
(`time.process_time`) per request, medians, and optionally a cProfile of one page. For
before/after comparisons on a shared machine, where CPU time moves less than latency.

The data is bench/dashboard.py's, filled once into a database that is kept between runs
(so the same data can be measured before and after a change, and a new migration can be
applied to it):

    .venv/bin/python -m bench.dashboard_inprocess fill sqlite /tmp/fd-sqlite [--rows 100000]
    .venv/bin/python -m bench.dashboard_inprocess fill postgresql fd_keep [--rows 100000]
    .venv/bin/python -m bench.dashboard_inprocess measure sqlite /tmp/fd-sqlite [--repeat 7]
        [--page search] [--profile search]

For PostgreSQL the second argument is a database name next to FORMDESK_BENCH_POSTGRES_URL's;
`fill` creates it (dropping one of that name). The app migrates the database when it starts,
as the service does."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from pathlib import Path

from bench.common import POSTGRES_ADMIN, Database, _admin_execute
from bench.dashboard import PASSWORD, REVIEWER, fill, pages


def _database(kind: str, where: str) -> Database:
    if kind == "sqlite":
        directory = Path(where)
        directory.mkdir(parents=True, exist_ok=True)
        return Database(kind, f"sqlite:///{directory / 'formdesk.db'}", directory)
    directory = Path(f"/tmp/{where}")  # noqa: S108  (instance folder of a bench database)
    directory.mkdir(parents=True, exist_ok=True)
    return Database(kind, POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + where, directory)


def _app(db: Database):
    os.environ["FORMDESK_INSTANCE_PATH"] = str(db.directory / "instance")
    from app import create_app

    return create_app(
        {
            "SECRET_KEY": "x" * 40,
            "FORMDESK_PUBLIC_URL": "http://127.0.0.1",
            "SQLALCHEMY_DATABASE_URI": db.url,
            "FORMDESK_LOAD_FORMS_ON_START": False,
            "FORMDESK_UPLOAD_DIR": str(db.directory / "uploads"),
            # As bench/dashboard.py's server: no worker making documents meanwhile.
            "FORMDESK_EMBEDDED_WORKER": False,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )


def measure(db: Database, repeat: int, only: list[str], profile: str | None) -> None:
    began = time.perf_counter()
    app = _app(db)
    print(f"app ready (migrated if needed) in {time.perf_counter() - began:.1f} s")
    with app.app_context():
        from extensions import db as sqla
        from models import Submission

        total = sqla.session.query(Submission).count()
        sqla.session.remove()
    rows = round(total / 1.1)
    client = app.test_client()
    response = client.post("/login", data={"email": REVIEWER, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: HTTP {response.status_code}")
    print(f"load average {os.getloadavg()[0]:.2f}; {total} submissions")
    print("| page | n | wall median ms | CPU median ms | wall max ms |")
    print("|---|--:|--:|--:|--:|")
    for name, paths in pages(rows, total - rows, repeat).items():
        if only and name not in only:
            continue
        client.get(paths[0])  # once first: templates, caches, plans
        walls, cpus = [], []
        profiler = cProfile.Profile() if name == profile else None
        for path in paths:
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            response = client.get(path)
            if profiler:
                profiler.disable()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
            if walls[-1] > 20 and len(walls) >= 3:
                break
        print(
            f"| {name} | {len(walls)} | {statistics.median(walls) * 1000:.0f} "
            f"| {statistics.median(cpus) * 1000:.0f} | {max(walls) * 1000:.0f} |"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("fill", "measure"))
    parser.add_argument("database", choices=("sqlite", "postgresql"))
    parser.add_argument("where", help="SQLite: a folder; PostgreSQL: a database name")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--page", action="append", default=[])
    parser.add_argument("--profile")
    args = parser.parse_args()
    target = _database(args.database, args.where)
    if args.action == "fill":
        if args.database == "postgresql":
            _admin_execute(
                f'DROP DATABASE IF EXISTS "{args.where}" WITH (FORCE)',
                f'CREATE DATABASE "{args.where}"',
            )
        filled = fill(target, args.rows)
        print(f"filled in {filled['fill_seconds']:.0f} s: {filled['ids']}")
    else:
        measure(target, args.repeat, args.page, args.profile)
