"""End to end on PostgreSQL with Redis: a real Celery beat (the database scheduler) and a real
worker make the weekly report on schedule, once, however often the schedule fires; its XLSX
holds the figures of an independent computation and exactly one e-mail goes out."""

import email
import io
import json
import os
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.db import connection

from grants.models import FundYear
from reports.models import Report, ReportStatus
from tests.factories import StaffFactory
from tests.helpers import post_with_active_projects, postgres_only

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("REPORTS_E2E_BROKER", "redis://127.0.0.1:6379/15")

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def redis_is_up() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except Exception:
        return False


def celery(*args, tmp_path, mail_dir):
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": REDIS,
        "DJANGO_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_TESTING": "false",
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "FUND_REPORT_RECIPIENTS": "fonds@example.org",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / f"{args[0]}.log", "w"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.skipif(not redis_is_up(), reason="needs Redis on 127.0.0.1:6379 (.ci/run starts it)")
def test_beat_and_a_worker_make_the_weekly_report_once(tmp_path):
    import redis
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    redis.Redis.from_url(REDIS).flushdb()
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    actor = StaffFactory(username="e2e")
    inputs = {"A": ["200000.00", "50000.00"], "B": ["300000.00"]}
    posts = {
        key: post_with_active_projects(actor, year, amounts) for key, amounts in inputs.items()
    }
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    every_second, _created = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name="e2e weekly",
        task="reports.tasks.make_report",
        interval=every_second,
        args=json.dumps(["weekly", "2026-W20"]),
    )
    worker = celery(
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--queues",
        "mail,reports,exports",
        tmp_path=tmp_path,
        mail_dir=mail_dir,
    )
    beat = celery(
        "beat",
        "--scheduler",
        "django_celery_beat.schedulers:DatabaseScheduler",
        "--loglevel",
        "INFO",
        "--max-interval",
        "1",
        tmp_path=tmp_path,
        mail_dir=mail_dir,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            report = Report.objects.filter(kind="weekly", period="2026-W20").first()
            if report is not None and report.status == ReportStatus.DONE and report.emailed_at:
                break
            time.sleep(0.5)
        else:
            logs = "\n".join(p.read_text()[-3000:] for p in tmp_path.glob("*.log"))
            pytest.fail(f"no report from the worker within 60 s\n{logs}")
        time.sleep(4)  # the schedule keeps firing every second
    finally:
        for process in (beat, worker):
            process.terminate()
        for process in (beat, worker):
            process.wait(timeout=30)
    assert Report.objects.filter(kind="weekly").count() == 1
    log = (tmp_path / "worker.log").read_text()
    assert log.count("reports.tasks.make_report") >= 2, log[-2000:]  # fired more than once

    # One e-mail (the file backend writes one file per connection, messages separated by
    # a line of dashes), with the XLSX whose per-post sheet matches plain sums of the inputs.
    messages = [
        part
        for path in mail_dir.iterdir()
        for part in path.read_text().split("-" * 79)
        if part.strip()
    ]
    assert len(messages) == 1, messages
    message = email.message_from_string(messages[0].strip())
    assert message["To"] == "fonds@example.org"
    [attachment] = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_filename() == "weekly-2026-W20.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_payload(decode=True)))
    sheet = book["Per post"]
    header = [cell.value for cell in sheet[1]]
    rows = {
        row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(2, values_only=True)
    }
    for key, amounts in inputs.items():
        committed = sum(Decimal(amount) for amount in amounts)
        row = rows[posts[key].code]
        assert Decimal(str(row["Verplicht"])) == committed
        assert Decimal(str(row["Betaald"])) == committed / 10
    assert "Geheim" not in messages[0]  # R11: no partner name in the e-mail
