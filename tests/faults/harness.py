"""Real services for the fault tests, each test its own: a Redis broker on a free port (to
stop and start), an SMTP server that counts what it accepts (and can refuse, fail a recipient
once, hang, or run something while a message is in flight), and Celery workers and a beat
as separate processes on the test's PostgreSQL database."""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
WORKER_APPLICATION = "mrf-fault-worker"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, logs=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    tails = "\n".join(Path(p).read_text()[-4000:] for p in logs if Path(p).exists())
    raise AssertionError(f"not within {timeout} s: {what}\n{tails}")


class Redis:
    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = tmp_path / f"redis-{self.port}.log"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT,  # noqa: SIM115 (the process keeps it)
        )  # fmt: skip
        wait_until(self.up, 10, "redis up")

    def up(self) -> bool:
        import redis

        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except Exception:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Behaviour:
    fail_once: set = field(default_factory=set)  # recipients answered 451 once
    on_data: object = None  # called while a message is in flight, before "250 OK"
    hang_until: float = 0.0  # monotonic time until which RCPT gets no answer


class Sink:
    """An SMTP server on a fixed port; `received` holds (recipient, Message-ID, subject)."""

    def __init__(self):
        self.port = free_port()
        self.received: list[tuple[str, str, str]] = []
        self.behaviour = Behaviour()
        self.controller = None
        self.black_hole = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        stalled = self.behaviour.hang_until - time.monotonic()
        if stalled > 0:
            await asyncio.sleep(stalled)
        if address in self.behaviour.fail_once:
            self.behaviour.fail_once.discard(address)
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.behaviour.on_data is not None:
            hook, self.behaviour.on_data = self.behaviour.on_data, None
            hook()
        message = email.message_from_bytes(envelope.content)
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, message["Message-ID"], message["Subject"]))
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def hang(self, seconds: float) -> None:
        """For a while, answer nothing once a sender names its recipient (the dialogue
        stalls mid-way, as with a server that accepted the connection and froze)."""
        self.behaviour.hang_until = time.monotonic() + seconds

    def to(self, address: str) -> list:
        return [row for row in self.received if row[0] == address]


def database_url() -> str:
    s = connection.settings_dict
    return (
        f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        f"?application_name={WORKER_APPLICATION}"
    )


class Celery:
    """Worker and beat processes with short timeouts, so that a fault test takes seconds."""

    def __init__(self, tmp_path: Path, redis: Redis, sink: Sink, recipients: str):
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": redis.url,
            # Long: a test that passes proves the catch-up, not a redelivery by the broker.
            "CELERY_VISIBILITY_TIMEOUT": "600",
            "DJANGO_DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_TESTING": "false",
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "EMAIL_TIMEOUT": "2",
            "FUND_REPORT_RECIPIENTS": recipients,
            "OUTBOX_RETRY_SECONDS": "1",
            "OUTBOX_RETRY_MAX_SECONDS": "2",
            "OUTBOX_LEASE_SECONDS": "90",
            "OUTBOX_BATCH_SECONDS": "5",
            "OUTBOX_MAX_ATTEMPTS": "60",
        }
        self.env.pop("PYTEST_XDIST_WORKER", None)
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self, role: str, *args) -> subprocess.Popen:
        log = self.tmp_path / f"{role}-{len(self.processes)}.log"
        self.logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", role, "--loglevel", "INFO", *args],
            cwd=ROOT, env=self.env, stdout=open(log, "w"),  # noqa: SIM115 (the process keeps it)
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def worker(self, *args) -> subprocess.Popen:
        from django.conf import settings

        queues = ",".join(settings.CELERY_QUEUE_NAMES)  # every queue, unless args name some
        if "--queues" not in args:
            args = ("--queues", queues, *args)
        process = self.start("worker", "--pool", "prefork", "--concurrency", "1", *args)
        wait_until(lambda: "ready." in self.logs[-1].read_text(), 120, "worker ready", self.logs)
        return process

    def beat(self) -> subprocess.Popen:
        return self.start(
            "beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
            "--max-interval", "1", "--schedule", str(self.tmp_path / "beat-schedule"),
        )  # fmt: skip

    @staticmethod
    def children(process: subprocess.Popen) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the process and its children (no clean shutdown: a crash)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def log_text(self) -> str:
        return "\n".join(log.read_text()[-3000:] for log in self.logs if log.exists())


def send_task(redis: Redis, name: str, *args) -> None:
    """Hand a task to the test's broker, as beat or the web process would."""
    from celery import Celery as App
    from django.conf import settings

    app = App(broker=redis.url)
    app.conf.task_routes = settings.CELERY_TASK_ROUTES
    app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
    try:
        app.send_task(name, args=list(args))
    finally:
        app.close()


def terminate_worker_connections() -> int:
    """Kill the workers' database connections (pg_terminate_backend), as a failover would."""
    import psycopg

    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
        dbname=s["NAME"], autocommit=True,
    ) as admin:  # fmt: skip
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s",
            [s["NAME"], WORKER_APPLICATION],
        ).fetchall()
    return len(rows)
