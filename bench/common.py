"""What the benchmarks share: the machine's description, databases made for one run,
gunicorn started the way deploy/gunicorn.conf.py starts it, process CPU and memory read
from /proc, and percentiles."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import ServerProcess, clean_environment, free_port  # noqa: E402

POSTGRES_ADMIN = os.environ.get(
    "FORMDESK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DATABASES = ("sqlite", "postgresql")

# The public form's defences against robots and floods are switched off for a load
# generator that answers at machine speed from one address; duplicate detection stays on
# (every submission uses its own email address), so its query is part of what is measured.
UNTHROTTLED = {
    "FLASK_FORMDESK_MIN_FILL_SECONDS": "0",
    "FLASK_FORMDESK_PAGE_LIMIT": "1000000 per minute",
    "FLASK_FORMDESK_SUBMIT_LIMIT": "1000000 per minute",
    "FLASK_FORMDESK_TOKEN_LIMIT": "1000000 per minute",
    "FLASK_FORMDESK_TOKEN_MISS_LIMIT": "1000000 per minute",
    "FLASK_FORMDESK_LOGIN_LIMIT_PER_ADDRESS": "1000000 per minute",
}


# --- numbers -------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation): a value that was really measured."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def distribution(seconds: list[float]) -> dict:
    """Milliseconds: count, p50, p95, p99, max."""
    return {
        "n": len(seconds),
        "p50": percentile(seconds, 0.50) * 1000,
        "p95": percentile(seconds, 0.95) * 1000,
        "p99": percentile(seconds, 0.99) * 1000,
        "max": max(seconds) * 1000 if seconds else float("nan"),
    }


# --- the machine ---------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(_plain(POSTGRES_ADMIN), connect_timeout=5) as connection:
            return connection.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001  (reported, not fatal)
        return f"not reachable ({type(exc).__name__})"


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(_memory_gib(), 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(),
        "kernel": platform.release(),
        "load_average": os.getloadavg(),
    }


# --- databases -----------------------------------------------------------------------------


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(_plain(POSTGRES_ADMIN), connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001
        return False


@dataclass
class Database:
    kind: str  # sqlite | postgresql
    url: str  # SQLAlchemy URL
    directory: Path  # instance folder, uploads, logs

    def query(self, sql: str, *params) -> list[tuple]:
        """Plain SQL outside the app (counts after a run)."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as connection:
                return connection.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(_plain(self.url)) as connection:
            return connection.execute(sql.replace("?", "%s"), params).fetchall()


def _admin_execute(*statements: str) -> None:
    import psycopg

    with psycopg.connect(_plain(POSTGRES_ADMIN), autocommit=True, connect_timeout=5) as c:
        for statement in statements:
            c.execute(statement)


@contextmanager
def database(kind: str, label: str) -> Iterator[Database]:
    """A new, empty database for one measurement, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix=f"formdesk-bench-{label}-"))
    name = f"formdesk_bench_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        if kind == "sqlite":
            yield Database(kind, f"sqlite:///{directory / 'formdesk.db'}", directory)
        else:
            _admin_execute(f'CREATE DATABASE "{name}"')
            try:
                yield Database(kind, POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name, directory)
            finally:
                _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        subprocess.run(["rm", "-rf", str(directory)], check=False)  # noqa: S603,S607


# --- call definitions ----------------------------------------------------------------------


def open_window() -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
    }


def write_definitions(directory: Path, *definitions: dict) -> Path:
    """A forms folder for FLASK_FORMDESK_FORMS_DIR (loaded when the app starts)."""
    import yaml

    folder = directory / "forms"
    folder.mkdir(parents=True, exist_ok=True)
    for definition in definitions:
        text = yaml.safe_dump(definition, allow_unicode=True, sort_keys=False)
        (folder / f"{definition['slug']}.yaml").write_text(text, encoding="utf-8")
    return folder


# --- servers -------------------------------------------------------------------------------


def app_environment(db: Database, **extra: str) -> dict:
    """Formdesk's environment for one server: the database, its own instance and upload
    folders, a random secret key, no throttling (see UNTHROTTLED)."""
    env = clean_environment(
        FORMDESK_INSTANCE_PATH=str(db.directory / "instance"),
        FLASK_SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        FLASK_FORMDESK_PUBLIC_URL="http://127.0.0.1",  # servers here are asked on loopback
        FLASK_FORMDESK_UPLOAD_DIR=str(db.directory / "uploads"),
        DATABASE_URL=db.url,
        **UNTHROTTLED,
    )
    env.update(extra)
    return env


def gunicorn(
    application: str, env: dict, log: Path, workers: int = 2, threads: int = 4
) -> ServerProcess:
    """gunicorn with deploy/gunicorn.conf.py (gthread, keep-alive, max_requests…), as a
    deployment runs it, on a free port."""
    port = free_port()
    env = {
        **env,
        "FORMDESK_BIND": f"127.0.0.1:{port}",
        "FORMDESK_WEB_WORKERS": str(workers),
        "FORMDESK_WEB_THREADS": str(threads),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        application,
    ]
    return ServerProcess(command, ROOT, env, port, log)


@contextmanager
def serving(server: ServerProcess, timeout: float = 90) -> Iterator[ServerProcess]:
    server.start(timeout)
    try:
        yield server
    finally:
        server.stop()


# --- processes -----------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (gunicorn's master and workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (those that ended are not counted)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process, of its children that ended (the kernel adds them to the parent's
    cutime/cstime when it reaps them: gunicorn's workers replaced after max_requests), and
    of its descendants alive now."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / _TICKS  # utime stime cutime cstime
    return own + cpu_seconds([p for p in process_tree(pid) if p != pid])


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class CpuMeter:
    """CPU used by this process (the load generator) and by a server's process tree over
    a window of wall time: cores busy = CPU seconds / wall seconds."""

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid

    def __enter__(self) -> CpuMeter:
        self.began = time.perf_counter()
        self.own = os.times()
        self.server = tree_cpu_seconds(self.server_pid) if self.server_pid else 0.0
        return self

    def __exit__(self, *_exc) -> None:
        wall = time.perf_counter() - self.began
        own = os.times()
        used = (own.user - self.own.user) + (own.system - self.own.system)
        self.generator_cores = used / wall
        server = tree_cpu_seconds(self.server_pid) if self.server_pid else 0.0
        self.server_cores = (server - self.server) / wall
        self.wall = wall


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


def command_line(doc: str, measure, report, databases: tuple[str, ...] = ("sqlite",)) -> None:
    """`python -m bench.PART [--quick] [--database sqlite|postgresql …]`: measure one part
    on its own and print its section of the report."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database", choices=DATABASES, action="append")
    args = parser.parse_args()
    print(report(measure(args.quick, tuple(args.database or databases))))
