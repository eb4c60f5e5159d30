"""Exactly once when things break (PostgreSQL, a real Redis, a real SMTP server, Celery
workers and beat as processes): after each fault, with the services back, exactly one report
per period and exactly one e-mail per recipient, counted where the e-mails land.

The timeouts are shortened by setting (harness.Celery), so each fault takes seconds."""

import time
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from grants.models import FundYear
from outbox.models import Message, MessageStatus
from reports.models import Report, ReportStatus
from tests.factories import StaffFactory
from tests.helpers import post_with_active_projects, postgres_only

from .harness import Celery, Redis, Sink, send_task, terminate_worker_connections, wait_until

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
RECIPIENTS = ["fonds@example.org", "directie@example.org", "dmo@example.org", "pol@example.org"]


@pytest.fixture
def world(tmp_path):
    """A fund year with two posts' projects; Redis and the SMTP server up; the delivery and
    the sweep every second on beat (instead of every minute and every ten)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    year = FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    actor = StaffFactory(username="faults")
    for amounts in (["200000.00", "50000.00"], ["300000.00"]):
        post_with_active_projects(actor, year, amounts)
    PeriodicTask.objects.update(enabled=False)
    every_second, _created = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    for task in ("outbox.tasks.deliver", "reports.tasks.sweep"):
        PeriodicTask.objects.create(name=f"test {task}", task=task, interval=every_second)
    redis, sink = Redis(tmp_path), Sink()
    redis.start()
    sink.start()
    celery = Celery(tmp_path, redis, sink, ",".join(RECIPIENTS))
    yield {"year": year, "actor": actor, "redis": redis, "sink": sink, "celery": celery}
    celery.stop()
    sink.stop()
    redis.stop()


def done(kind="weekly", period="2026-W20"):
    return Report.objects.filter(kind=kind, period=period, status=ReportStatus.DONE).exists()


def everyone_once(sink, subject_part: str) -> bool:
    return all(
        len([row for row in sink.to(address) if subject_part in row[2]]) >= 1
        for address in RECIPIENTS
    )


def assert_exactly_once(world, kind="weekly", period="2026-W20", settle=3.0):
    """One report for the period, and per recipient exactly one e-mail of it (by count and
    by Message-ID), also after a few more seconds of workers and beat."""
    sink, celery = world["sink"], world["celery"]
    subject = f" {period}"
    wait_until(lambda: done(kind, period), 60, f"{kind} {period} done", celery.logs)
    wait_until(lambda: everyone_once(sink, subject), 60, "e-mails at the sink", celery.logs)
    time.sleep(settle)
    assert Report.objects.filter(kind=kind, period=period).count() == 1
    for address in RECIPIENTS:
        rows = [row for row in sink.to(address) if subject in row[2]]
        assert len(rows) == 1, (address, rows, celery.log_text())
    report = Report.objects.get(kind=kind, period=period)
    sent = Message.objects.filter(cause=f"report:{report.pk}")
    assert sorted(sent.values_list("to", flat=True)) == sorted(RECIPIENTS)
    assert set(sent.values_list("status", flat=True)) == {MessageStatus.SENT}


class BuildBlocked:
    """Hold the fund years' table locked from another connection, so that a report build
    blocks inside its transaction: the moment to kill what builds it."""

    def __enter__(self):
        s = connection.settings_dict
        self.connection = psycopg.connect(
            host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
            dbname=s["NAME"],
        )  # fmt: skip
        self.connection.execute("LOCK TABLE grants_fundyear IN ACCESS EXCLUSIVE MODE")
        return self

    def waiting(self) -> bool:
        row = self.connection.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'grants_fundyear' AND NOT l.granted"
        ).fetchone()
        return row[0] > 0

    def __exit__(self, *exc):
        self.connection.rollback()
        self.connection.close()


def test_a_pool_child_killed_while_building_is_rejected_back_to_the_queue(world):
    celery = world["celery"]
    worker = celery.worker()
    with BuildBlocked() as blocked:
        send_task(world["redis"], "reports.tasks.make_report", "weekly", "2026-W20")
        wait_until(blocked.waiting, 60, "the build waits on the lock", celery.logs)
        [child] = Celery.children(worker)
        import os
        import signal

        os.kill(child, signal.SIGKILL)
        wait_until(lambda: child not in Celery.children(worker), 20, "child replaced")
    assert_exactly_once(world)
    assert "WorkerLostError" in celery.log_text()


def test_a_whole_worker_killed_while_building_is_caught_up_at_the_next_start(world):
    celery = world["celery"]
    worker = celery.worker()
    with BuildBlocked() as blocked:
        send_task(world["redis"], "reports.tasks.make_report", "weekly", "2026-W20")
        wait_until(blocked.waiting, 60, "the build waits on the lock", celery.logs)
        Celery.kill(worker)
    assert Report.objects.get(period="2026-W20").status == ReportStatus.PENDING
    started = time.monotonic()
    celery.worker()  # its start sweeps: the abandoned report is taken over at once
    assert_exactly_once(world)
    assert time.monotonic() - started < 120  # not the broker's visibility timeout (600 s)


def test_smtp_refusing_and_then_returning_delivers_each_recipient_once(world):
    sink, celery = world["sink"], world["celery"]
    sink.stop()
    celery.worker()
    celery.beat()
    send_task(world["redis"], "reports.tasks.make_report", "weekly", "2026-W20")
    wait_until(done, 60, "report done", celery.logs)
    wait_until(
        lambda: Message.objects.filter(attempts__gte=2).count() == len(RECIPIENTS),
        60, "retries while the server refuses", celery.logs,
    )  # fmt: skip
    assert sink.received == []
    sink.start()
    assert_exactly_once(world)


def test_smtp_failing_mid_batch_resends_only_the_failed_recipient(world):
    sink, celery = world["sink"], world["celery"]
    sink.behaviour.fail_once = {"dmo@example.org"}
    celery.worker()
    celery.beat()
    send_task(world["redis"], "reports.tasks.make_report", "weekly", "2026-W20")
    assert_exactly_once(world)
    assert Message.objects.get(to="dmo@example.org").attempts == 2


def test_the_broker_down_across_a_scheduled_fire_is_caught_up(world):
    from django_celery_beat.models import PeriodicTask

    redis, celery = world["redis"], world["celery"]
    # The weekly schedule fired last Monday at 7:00 while the broker was away.
    weekly = PeriodicTask.objects.get(name="Wekelijkse fondssamenvatting")
    weekly.enabled, weekly.start_time = True, timezone.now() - timedelta(days=8)
    weekly.save()
    owed = [period for kind, period in _owed() if kind == "weekly"]
    assert owed, "the schedule owes a period"
    redis.stop()
    beat = celery.beat()
    # Beat runs while the broker is away: it cannot hand anything over (it waits for the
    # broker to come back), and whatever it meant to send dies with it.
    time.sleep(5)
    Celery.kill(beat)  # nothing of beat's survives the outage: only the sweep can catch up
    assert not Report.objects.filter(kind="weekly").exists()
    redis.start()
    celery.worker()  # its start sweeps
    assert_exactly_once(world, "weekly", owed[-1])


def _owed():
    from reports.services import scheduled_periods

    return sorted(scheduled_periods())


def test_the_broker_down_while_a_plan_is_submitted_loses_no_e_mail(world, monkeypatch):
    from celery import current_app
    from django.contrib.auth.models import Group

    from grants import services
    from tests.factories import UserFactory
    from tests.helpers import make_participant, make_plan

    redis, celery, sink = world["redis"], world["celery"], world["sink"]
    actor = world["actor"]
    reviewer = UserFactory(username="rev", email="rev@example.org", is_staff=True)
    from fund.access import ensure_roles

    ensure_roles()
    reviewer.groups.add(Group.objects.get(name="beoordelaar"))
    post = make_participant(actor, world["year"])
    plan = make_plan(actor, post, world["year"])
    redis.stop()
    # This process asks the (stopped) broker for a delivery once the step commits.
    monkeypatch.setattr(current_app.conf, "broker_url", redis.url)
    current_app.pool.force_close_all()
    current_app._pool = None
    services.plan_submit(actor=actor, plan=plan)  # commits although the broker is away
    assert Message.objects.filter(to="rev@example.org", status=MessageStatus.QUEUED).exists()
    redis.start()
    celery.worker()  # its start delivers what waited
    wait_until(lambda: sink.to("rev@example.org"), 60, "the reviewer's e-mail", celery.logs)
    time.sleep(2)
    assert len(sink.to("rev@example.org")) == 1


def test_the_database_connection_killed_while_a_mail_is_in_flight_sends_it_once(world):
    sink, celery = world["sink"], world["celery"]
    killed = []
    sink.behaviour.on_data = lambda: killed.append(terminate_worker_connections())
    celery.worker()
    celery.beat()
    send_task(world["redis"], "reports.tasks.make_report", "weekly", "2026-W20")
    assert_exactly_once(world)
    assert killed and killed[0] >= 1  # the worker's connection was there, and was killed


def test_an_smtp_server_that_never_answers_holds_no_lock_and_nothing_waits_behind_it(world):
    sink, celery = world["sink"], world["celery"]
    celery.worker("--concurrency", "2")
    sink.hang(seconds=20)
    send_task(world["redis"], "reports.tasks.make_report", "weekly", "2026-W20")
    wait_until(done, 60, "the report is made while the server hangs", celery.logs)
    # Another report is made meanwhile: the hanging delivery holds no lock.
    send_task(world["redis"], "reports.tasks.make_report", "monthly", "2026-05")
    wait_until(lambda: done("monthly", "2026-05"), 60, "a second report", celery.logs)
    wait_until(
        lambda: Message.objects.filter(last_error__icontains="timed out").exists(),
        60, "the e-mail timeout gives up", celery.logs,
    )  # fmt: skip
    celery.beat()  # retries; once the server answers again, each recipient gets one
    assert_exactly_once(world)


def test_the_database_failing_while_the_workers_deliver_loses_no_step_e_mail(world):
    """The plan step's e-mails wait in the outbox; while the workers' connections are killed
    over and over, delivery fails and is retried; afterwards each recipient has one."""
    import threading

    from django.contrib.auth.models import Group

    from fund.access import ensure_roles
    from grants import services
    from tests.factories import UserFactory
    from tests.helpers import make_participant, make_plan

    celery, sink, actor = world["celery"], world["sink"], world["actor"]
    ensure_roles()
    for name in ("rev1", "rev2"):
        reviewer = UserFactory(username=name, email=f"{name}@example.org", is_staff=True)
        reviewer.groups.add(Group.objects.get(name="beoordelaar"))
    post = make_participant(actor, world["year"])
    services.plan_submit(actor=actor, plan=make_plan(actor, post, world["year"]))
    stop = threading.Event()

    def keep_killing():
        while not stop.is_set():
            terminate_worker_connections()
            time.sleep(0.05)

    killer = threading.Thread(target=keep_killing, daemon=True)
    killer.start()
    try:
        celery.worker()
        time.sleep(4)  # deliveries fail on a dead connection, again and again
    finally:
        stop.set()
        killer.join(timeout=5)
    # Beat starts once the database is back: a beat whose connection dies while it loads its
    # schedule exits, and is started again by its supervisor (deploy/compose.yaml's restart
    # policy); this harness restarts nothing.
    celery.beat()
    # A row claimed just before its connection died stays leased (OUTBOX_LEASE_SECONDS, 90 s
    # here) and is taken again by beat's next minutely delivery after that.
    settle = 90 + 60 + 30
    for name in ("rev1", "rev2"):
        address = f"{name}@example.org"
        wait_until(lambda a=address: sink.to(a), settle, f"{address}'s e-mail", celery.logs)
    wait_until(
        lambda: not Message.objects.exclude(status=MessageStatus.SENT).exists(),
        120, "every row recorded as sent", celery.logs,
    )  # fmt: skip
    time.sleep(5)
    assert [len(sink.to(f"{name}@example.org")) for name in ("rev1", "rev2")] == [1, 1]
