"""Benchmark: throughput and latency of the embassy API's lists against a bare baseline.

Measures four lists an embassy pages through — `GET /api/v1/projects/`, `plans/`,
`partners/` and `annual-reports/`, each `?page_size=50`, with the knox token of an editor of
the post that owns the most projects — served by gunicorn on PostgreSQL in the production
configuration: DEBUG off, persistent database connections (`--conn-max-age 60`, or `--pool`
for psycopg's pool), the throttle counting in Redis. Each is measured against a baseline in
the same gunicorn processes: `GET /bench/constant/<list>/`, a bare DRF view with the same
token authentication that returns the very same JSON document without touching the fund's
data (bench/baseline_urls.py, served through bench/settings.py). A list and its baseline are
loaded in turn, in six slices each. The ratio real/baseline of the request rates says how
much of the throughput of a bare authenticated DRF response survives the endpoint's own work
(queries, ORM, serialization); the target is at least 0.5, and a p95 of the list at most
twice its p50. A second line gives the project list's ratio with a new database connection
per request (CONN_MAX_AGE=0), the figure recorded before 2026-12-04. This is a measurement
that prints figures, not a test.

Run from the project root (PostgreSQL on 127.0.0.1:5432, trust auth, user postgres; Redis on
127.0.0.1:6379):

    .venv/bin/python bench/api.py [--setup] [--projects 100000] [--duration 15] [--clients 4]
        [--workers 2] [--pool] [--lists projects plans] [--no-per-request-line]
    .venv/bin/python bench/api.py --readlog-cost [--duration 20]

The database is `mrf_bench_api` unless `--database-url` or DATABASE_URL names another one.
With `--setup`, or when that database is missing or holds fewer than `--projects` projects,
it is dropped and created again (only a database whose name contains "bench"), migrated,
seeded with `seed_demo --scale K` and analyzed; 100 000 projects took about five minutes on
2 cores. The load comes from `--clients` threads of the standard library's http.client on
the same machine: first a warm-up (`--warmup` seconds), then `--duration` seconds per
endpoint.

Besides requests/s, p50/p95 latency and non-200 responses it prints the CPU time per request
spent by the gunicorn workers (Linux /proc): when other work shares the machine, request
rates drop but the CPU time per request of the workers stays comparable.

Why one file of ~700 lines: a benchmark script, run end to end as one command.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
GUNICORN = str(VENV_BIN / "gunicorn")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mrf_bench_api"
REAL_PATH = "/api/v1/projects/?page_size=50"
# The lists an embassy pages through, each against the bare endpoint answering its very JSON.
LISTS = {
    "projects": REAL_PATH,
    "plans": "/api/v1/plans/?page_size=50",
    "partners": "/api/v1/partners/?page_size=50",
    "annual-reports": "/api/v1/annual-reports/?page_size=50",
}


def baseline_path(name: str) -> str:
    return f"/bench/constant/{name}/"


BENCH_USER = "bench-editor"

# Run inside `manage.py shell -c`: the project count, the post owning the most projects and
# the number of projects the demo world (and each --scale step) adds.
STATE_SNIPPET = """
import json
from django.db.models import Count
from grants.models import Project
from seeds.demo import DEMO_BASE_PROJECTS
top = (
    Project.objects.order_by().values("post__code").annotate(n=Count("pk"))
    .order_by("-n", "post__code").first()
)
print(json.dumps({
    "projects": Project.objects.count(),
    "post": top["post__code"] if top else None,
    "post_projects": top["n"] if top else 0,
    "scale_step": DEMO_BASE_PROJECTS,
}))
"""


# --- Database -----------------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    host: str
    port: int
    user: str
    name: str

    @classmethod
    def parse(cls, url: str) -> Database:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            sys.exit(f"bench/api.py needs PostgreSQL; DATABASE_URL is {url!r}.")
        name = parts.path.lstrip("/")
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            sys.exit(f"Unexpected database name {name!r} in {url!r}.")
        return cls(
            url=url,
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            name=name,
        )

    @property
    def client_args(self) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]

    def exists(self) -> bool:
        query = f"SELECT 1 FROM pg_database WHERE datname = '{self.name}'"
        result = subprocess.run(
            ["psql", *self.client_args, "-d", "postgres", "-Atc", query],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip() == "1"

    def analyze(self) -> None:
        subprocess.run(["psql", *self.client_args, "-d", self.name, "-qc", "ANALYZE"], check=True)

    def recreate(self) -> None:
        if "bench" not in self.name:
            sys.exit(
                f"Refusing to drop database {self.name!r}: bench/api.py only drops databases "
                "whose name contains 'bench'."
            )
        subprocess.run(["dropdb", *self.client_args, "--if-exists", self.name], check=True)
        subprocess.run(["createdb", *self.client_args, self.name], check=True)


def django_env(database: Database, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_DEBUG="true",
        DATABASE_URL=database.url,
        DJANGO_SETTINGS_MODULE="config.settings",
        API_USER_THROTTLE_RATE="1000000/minute",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, capture: bool = False):
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        capture_output=capture,
    )


def db_state(env: dict[str, str]) -> dict | None:
    """Project count, busiest post and --scale step; None when the schema is not there."""
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", STATE_SNIPPET],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def set_up(database: Database, env: dict[str, str], projects: int) -> dict:
    print(f"Setting up {database.name}: drop, create, migrate, seed_demo …", flush=True)
    database.recreate()
    started = time.monotonic()
    manage(env, "migrate", "--no-input", "-v", "0")
    print(f"  migrate: {time.monotonic() - started:.1f} s", flush=True)
    state = db_state(env)
    if state is None:
        sys.exit("The database cannot be read after migrate.")
    step = state["scale_step"]
    seeding_started = time.monotonic()
    scale = math.ceil(max(projects - step, 0) / step)  # the demo world itself has `step`
    for _attempt in range(3):
        print(f"  seed_demo --scale {scale} (adds {scale * step:,} projects) …", flush=True)
        manage(env, "seed_demo", "--scale", str(scale))
        state = db_state(env)
        if state is None:
            sys.exit("The database cannot be read after seed_demo.")
        if state["projects"] >= projects:
            break
        scale = math.ceil((projects - state["projects"]) / step)
    else:
        sys.exit(f"Seeding made only {state['projects']:,} projects, fewer than {projects:,}.")
    seconds = time.monotonic() - seeding_started
    database.analyze()  # planner statistics, as autovacuum would gather them in time
    print(f"  seeding: {seconds:.0f} s ({seconds / 60:.1f} min), {state['projects']:,} projects")
    print(f"  setup in total: {time.monotonic() - started:.0f} s", flush=True)
    return state


def create_token(env: dict[str, str], post: str) -> str:
    """A fresh token for the bench user; its earlier tokens are deleted first, as knox reads
    all of a user's tokens on every request and each run would otherwise add one."""
    forget = (
        "from knox.models import AuthToken; "
        f"AuthToken.objects.filter(user__username={BENCH_USER!r}).delete()"
    )
    manage(env, "shell", "-c", forget, capture=True)
    result = manage(
        env, "create_post_user", BENCH_USER, "--post", post, "--role", "editor", capture=True
    )
    return result.stdout.strip().splitlines()[-1].strip()


# --- Server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Token {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Server:
    """gunicorn with the benchmark settings; stopped with SIGTERM (SIGKILL after 30 s)."""

    def __init__(self, env: dict[str, str], workers: int, log_path: Path):
        self.port = free_port()
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [
                GUNICORN,
                "config.wsgi:application",
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(workers),
                "--threads",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches this script, which stops gunicorn
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if get(self.port, "/health/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /health/ with 200 in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# --- CPU accounting (Linux /proc; zeros elsewhere) ---------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_table() -> dict[int, tuple[str, int, float, float]]:
    """pid → (command, parent pid, own CPU seconds, CPU seconds of its reaped children)."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
            fields = tail.split()
            own = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
            children = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS  # cutime + cstime
            table[int(stat.parent.name)] = (head.split("(", 1)[1], int(fields[1]), own, children)
        except (OSError, ValueError, IndexError):
            continue
    return table


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, all CPUs together."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class Cpu:
    """CPU seconds so far (or spent between two snapshots) by who spent them."""

    workers: float = 0.0  # the gunicorn workers
    postgres: float = 0.0  # every PostgreSQL process, ended backends included (all databases)
    client: float = 0.0  # this script's load threads
    busy: float = 0.0  # the whole machine, any process
    total: float = 0.0  # the whole machine, busy or idle

    @classmethod
    def snapshot(cls, gunicorn_pid: int) -> Cpu:
        table = _process_table()
        workers = sum(row[2] for row in table.values() if row[1] == gunicorn_pid)
        postgres = 0.0
        for command, parent, own, children in table.values():
            if command == "postgres":
                postgres += own
                if table.get(parent, ("",))[0] != "postgres":  # the postmaster reaps backends
                    postgres += children
        usage = resource.getrusage(resource.RUSAGE_SELF)
        busy, total = machine_ticks()
        return cls(
            workers=workers,
            postgres=postgres,
            client=usage.ru_utime + usage.ru_stime,
            busy=busy / CLOCK_TICKS,
            total=total / CLOCK_TICKS,
        )

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            **{name: getattr(self, name) - getattr(other, name) for name in self.__annotations__}
        )

    def __add__(self, other: Cpu) -> Cpu:
        return Cpu(
            **{name: getattr(self, name) + getattr(other, name) for name in self.__annotations__}
        )

    @property
    def other(self) -> float:
        return self.busy - self.workers - self.postgres - self.client


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --- Load --------------------------------------------------------------------------------------


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    connections: int = 0
    seconds: float = 0.0
    cpu: Cpu = field(default_factory=Cpu)  # spent during the run

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def cpu_ms(self, seconds: float) -> float:
        """CPU milliseconds per request."""
        return seconds / self.requests * 1000 if self.requests else float("nan")

    @property
    def non_200(self) -> int:
        return self.requests - self.statuses[200]

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] * 1000


def run_load(
    port: int, path: str, token: str, clients: int, seconds: float, extra: dict | None = None
) -> Result:
    """`clients` threads, each with its own http.client connection (kept alive when the server
    allows it; gunicorn's sync workers close it after every response, so it reconnects)."""
    headers = {"Authorization": f"Token {token}", "Connection": "keep-alive", **(extra or {})}
    results = [Result() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(result: Result) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        while (began := time.perf_counter()) < stop_at[0]:
            if connection.sock is None:
                result.connections += 1
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
            result.latencies.append(time.perf_counter() - began)
            result.statuses[status] += 1
        connection.close()

    # Daemon threads: an interrupted run (Ctrl-C, SIGTERM) exits without waiting for them.
    threads = [threading.Thread(target=client, args=(result,), daemon=True) for result in results]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    total = Result(seconds=time.perf_counter() - began)
    for result in results:
        total.latencies.extend(result.latencies)
        total.statuses.update(result.statuses)
        total.connections += result.connections
    return total


SLICES = 6


def measure_in_turn(server: Server, paths, token: str, args) -> tuple[Result, ...]:
    """The endpoints loaded in turn, slice after slice (`--duration` split in SLICES, each
    first in every other round): whatever else the machine does falls on both alike."""
    for path in paths:
        if args.warmup > 0:
            run_load(server.port, path, token, args.clients, args.warmup)
    totals = [Result() for _path in paths]
    for number in range(SLICES):
        order = list(enumerate(paths))
        for index, path in order if number % 2 else order[::-1]:
            before = Cpu.snapshot(server.process.pid)
            part = run_load(server.port, path, token, args.clients, args.duration / SLICES)
            part.cpu = Cpu.snapshot(server.process.pid) - before
            total = totals[index]
            total.latencies.extend(part.latencies)
            total.statuses.update(part.statuses)
            total.connections += part.connections
            total.seconds += part.seconds
            total.cpu = total.cpu + part.cpu
    return tuple(totals)


# --- Main --------------------------------------------------------------------------------------


def readlog_cost(server_env: dict[str, str], token: str, args, tmp: Path) -> int:
    """The project list served with the read log (as in production) and without it by one
    server, loaded in turn, slice after slice (`--duration` split in 10): the "without"
    requests carry a header only the benchmark's settings honour (bench/switch.py), so the same
    processes serve both and the slowdown is the read log's cost. (Two servers, one without
    the read log, differed by several per cent between runs: the machine places each process
    differently.)"""
    server = Server({**server_env, "BENCH_SWITCHABLE_READLOG": "1"}, args.workers,
                    tmp / "gunicorn-readlog.log")  # fmt: skip
    asked = {"with read log": {}, "without": {"X-Bench-Without-Readlog": "1"}}
    totals = {label: Result() for label in asked}
    try:
        server.wait_healthy()
        status, body = get(server.port, REAL_PATH, token)
        if status != 200:
            raise RuntimeError(f"{REAL_PATH} answered {status}: {body[:300]!r}")
        for extra in asked.values():
            run_load(server.port, REAL_PATH, token, args.clients, args.warmup, extra)
        for number in range(10):
            order = list(asked.items()) if number % 2 else list(asked.items())[::-1]
            for label, extra in order:
                part = run_load(server.port, REAL_PATH, token, args.clients,
                                args.duration / 10, extra)  # fmt: skip
                totals[label].latencies.extend(part.latencies)
                totals[label].statuses.update(part.statuses)
                totals[label].seconds += part.seconds
    finally:
        server.stop()
    print()
    print(f"Read log cost: GET {REAL_PATH}, {args.clients} clients, {args.duration:g} s each, "
          "in 10 alternating slices")  # fmt: skip
    for label, result in totals.items():
        print(f"{label:<16}{result.rate:>9.1f} req/s  p50 {result.percentile_ms(0.5):6.1f} ms  "
              f"p95 {result.percentile_ms(0.95):6.1f} ms  non-200 {result.non_200}")  # fmt: skip
    ratio = totals["with read log"].rate / totals["without"].rate
    print(f"ratio with/without (req/s): {ratio:.3f} (the read log costs {1 - ratio:.1%}; "
          "target: at most 5 %)")  # fmt: skip
    return 1 if any(result.non_200 for result in totals.values()) else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        help=f"PostgreSQL URL (default: DATABASE_URL, else {DEFAULT_DATABASE_URL}).",
    )
    parser.add_argument("--setup", action="store_true", help="Recreate and seed the database.")
    parser.add_argument("--projects", type=int, default=100_000, help="Projects needed.")
    parser.add_argument("--duration", type=float, default=15, help="Seconds per endpoint.")
    parser.add_argument("--warmup", type=float, default=3, help="Warm-up seconds per endpoint.")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent client threads.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers.")
    parser.add_argument(
        "--readlog-cost",
        action="store_true",
        help="Instead: the project list with and without the read log's middleware, "
        "in turn on one server (bench/switch.py).",
    )
    parser.add_argument(
        "--conn-max-age", type=int, default=60,
        help="DJANGO_CONN_MAX_AGE for the server (default 60: persistent, as production runs; "
        "0 is a new connection per request).",
    )  # fmt: skip
    parser.add_argument(
        "--pool", action="store_true", help="psycopg's connection pool instead (?pool=true)."
    )
    parser.add_argument(
        "--lists", nargs="*", choices=list(LISTS), help="Only these lists (default: all four)."
    )
    parser.add_argument(
        "--no-per-request-line", dest="per_request_line", action="store_false",
        help="Skip the second figure: the project list with a new connection per request.",
    )  # fmt: skip
    return parser.parse_args()


def main() -> int:
    # SIGTERM unwinds like Ctrl-C, so gunicorn is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    args = parse_args()
    database = Database.parse(args.database_url)
    env = django_env(database)

    state = db_state(env) if database.exists() else None
    if args.setup or state is None or state["projects"] < args.projects:
        state = set_up(database, env, args.projects)
    post = state["post"]
    token = create_token(env, post)

    with tempfile.TemporaryDirectory(prefix="mrf-bench-api-") as tmp:
        # The server runs as in production (DEBUG off: no query log, no debug pages; database
        # connections kept, as docs/deploy.md recommends), over plain HTTP on the loopback.
        server_env = django_env(
            database,
            DJANGO_SETTINGS_MODULE="bench.settings",
            BENCH_CONSTANT_DIR=tmp,
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="bench-" + "x" * 50,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_LOG_LEVEL="WARNING",
            DJANGO_CONN_MAX_AGE=str(args.conn_max_age),
            # Production services (config.checks refuses to start without them): the throttle
            # counts in Redis, as it does on several web servers; no e-mail is sent.
            CELERY_BROKER_URL=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"),
            CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13"),
            EMAIL_URL="smtp://127.0.0.1:25",
            FUND_REPORT_RECIPIENTS="bench@example.org",
        )
        if args.pool:
            joiner = "&" if "?" in database.url else "?"
            server_env["DATABASE_URL"] = database.url + joiner + "pool=true"
        if args.readlog_cost:
            return readlog_cost(server_env, token, args, Path(tmp))
        lists = {name: LISTS[name] for name in (args.lists or LISTS)}
        results = serve_and_measure(server_env, lists, token, args, Path(tmp), state, post)
        if args.conn_max_age and not args.pool and args.per_request_line and "projects" in lists:
            # The older figure: a new database connection per request (CONN_MAX_AGE=0).
            per_request = serve_and_measure(
                {**server_env, "DJANGO_CONN_MAX_AGE": "0"}, {"projects": REAL_PATH}, token,
                args, Path(tmp), state, post, quiet=True,
            )  # fmt: skip
        else:
            per_request = {}

    print()
    print("Throughput and latency (each list, then the bare endpoint answering its JSON):")
    print(f"{'list':<16}{'endpoint':<10}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'non-200':>9}{'gunicorn CPU ms/req':>21}")  # fmt: skip
    for name, (real, baseline) in results.items():
        for label, result in (("real", real), ("baseline", baseline)):
            print(f"{name:<16}{label:<10}{result.requests:>10,}{result.rate:>9.1f}"
                  f"{result.percentile_ms(0.50):>9.1f}{result.percentile_ms(0.95):>9.1f}"
                  f"{result.non_200:>9}{result.cpu_ms(result.cpu.workers):>21.1f}")  # fmt: skip
    print()
    connections = "psycopg pool" if args.pool else f"CONN_MAX_AGE={args.conn_max_age}"
    print(f"ratio real/baseline (req/s), {connections}, DEBUG off, throttle in Redis "
          "(target: at least 0.5):")  # fmt: skip
    failed = False
    for name, (real, baseline) in results.items():
        ratio = real.rate / baseline.rate if baseline.rate else float("nan")
        verdict = "meets" if ratio >= 0.5 else "below"
        print(f"  {name:<16}{ratio:6.2f}  ({verdict}; p95/p50 of the list "
              f"{real.percentile_ms(0.95) / real.percentile_ms(0.5):.2f})")  # fmt: skip
        failed |= bool(real.non_200 or baseline.non_200)
    for name, (real, baseline) in per_request.items():
        ratio = real.rate / baseline.rate if baseline.rate else float("nan")
        print(f"  {name:<16}{ratio:6.2f}  (a new database connection per request, "
              "CONN_MAX_AGE=0)")  # fmt: skip
        failed |= bool(real.non_200 or baseline.non_200)
    return 1 if failed else 0


def serve_and_measure(server_env, lists, token, args, tmp: Path, state, post, quiet=False):
    """One gunicorn server; for each list, its JSON captured as the baseline's document, then
    the list and the baseline loaded one after the other."""
    log_name = f"gunicorn-{server_env['DJANGO_CONN_MAX_AGE']}-{'-'.join(lists)}.log"
    server = Server(server_env, args.workers, tmp / log_name)
    results = {}
    try:
        server.wait_healthy()
        for name, path in lists.items():
            status, body = get(server.port, path, token)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
            (tmp / f"{name}.json").write_bytes(body)
            status, constant = get(server.port, baseline_path(name), token)
            if status != 200 or json.loads(constant) != json.loads(body):
                raise RuntimeError(f"{baseline_path(name)} answered {status}: {constant[:300]!r}")
            document = json.loads(body)
            if not quiet:
                print(f"{name}: GET {path}: {len(document.get('results', []))} of "
                      f"{document.get('count', '?')} items, {len(body):,} bytes")  # fmt: skip
        if not quiet:
            print(f"data: {state['projects']:,} projects in {server_env['DATABASE_URL']}; token "
                  f"of {BENCH_USER} (editor of {post})")  # fmt: skip
            print(f"machine: {os.cpu_count()} CPUs, load average {load_average()}; gunicorn: "
                  f"{args.workers} sync workers × 1 thread, DEBUG off; load: {args.clients} "
                  f"clients, {args.warmup:g} s warm-up + {args.duration:g} s per endpoint",
                  flush=True)  # fmt: skip
        for name, path in lists.items():
            results[name] = measure_in_turn(server, (path, baseline_path(name)), token, args)
    except BaseException:
        server.stop()
        print("gunicorn log (tail):\n" + server.log_tail(), file=sys.stderr)
        raise
    server.stop()
    return results


if __name__ == "__main__":
    sys.exit(main())
