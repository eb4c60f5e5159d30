"""Nothing scheduled is lost, and the figures say what they are: the sweep owes every
scheduled period of its window (a fire beat could not hand to the broker), takes over a
failed or abandoned report and mails a done one that was never mailed; a report states when
its figures were taken and compares with the period before it; the reminder's edges (R10)."""

import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from countries.models import PostMembership, PostRole
from countries.services import membership_set
from grants import services
from grants.models import FundYear
from outbox.models import Message
from reports import mail as reports_mail
from reports import services as reports
from reports.models import Report, ReportStatus
from tests.factories import PostFactory, StaffFactory, UserFactory
from tests.helpers import deliver_outbox, make_participant, make_plan, post_with_active_projects

pytestmark = pytest.mark.django_db
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def year():
    return FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )


def weekly_schedule(start: datetime):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="Wekelijkse fondssamenvatting")
    task.start_time = start
    task.save()
    return task


# --- The sweep ----------------------------------------------------------------------------------


def test_the_weekly_schedule_fires_on_mondays_at_seven_in_amsterdam():
    task = weekly_schedule(datetime(2026, 11, 1, tzinfo=AMSTERDAM))
    fires = reports.past_fires(
        task.crontab,
        datetime(2026, 11, 1, tzinfo=AMSTERDAM),
        datetime(2026, 11, 23, 7, 0, tzinfo=AMSTERDAM),
    )
    assert fires == [datetime(2026, 11, d, 7, 0, tzinfo=AMSTERDAM) for d in (2, 9, 16, 23)]


def test_a_fire_beat_could_not_hand_over_is_owed_and_made_by_the_sweep(year, settings):
    settings.FUND_REPORT_RECIPIENTS = ["fonds@example.org"]
    weekly_schedule(datetime(2026, 11, 1, tzinfo=AMSTERDAM))
    monday_noon = datetime(2026, 11, 16, 12, 0, tzinfo=AMSTERDAM)
    reports.build_report("weekly", "2026-W45")  # the fire of 9 November worked
    owed = [pair for pair in reports.reports_owed(monday_noon) if pair[0] == "weekly"]
    # 2 November reported on week 44, 16 November on week 46: both lost with the broker.
    assert owed == [("weekly", "2026-W44"), ("weekly", "2026-W46")]
    for kind, period in owed:
        reports.build_report(kind, period)
    assert [p for p in reports.reports_owed(monday_noon) if p[0] == "weekly"] == []
    assert Report.objects.filter(kind="weekly").count() == 3
    assert len(deliver_outbox()) == 3  # one e-mail per report


def test_the_sweep_owes_nothing_before_its_schedule_was_installed(year):
    weekly_schedule(datetime(2026, 11, 15, tzinfo=AMSTERDAM))
    owed = reports.reports_owed(datetime(2026, 11, 16, 12, 0, tzinfo=AMSTERDAM))
    assert [p for p in owed if p[0] == "weekly"] == [("weekly", "2026-W46")]


def test_of_the_daily_reminder_only_todays_is_owed():
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name="Dagelijkse herinnering jaarplannen").update(
        start_time=datetime(2026, 11, 1, tzinfo=AMSTERDAM)
    )
    morning = datetime(2026, 11, 16, 7, 0, tzinfo=AMSTERDAM)
    evening = datetime(2026, 11, 16, 20, 0, tzinfo=AMSTERDAM)
    assert ("reminder", "2026-11-16") not in reports.reports_owed(morning)  # before 8:00
    owed = [pair for pair in reports.reports_owed(evening) if pair[0] == "reminder"]
    assert owed == [("reminder", "2026-11-16")]


def test_a_failed_or_abandoned_report_is_taken_over_and_a_done_one_left_alone(year):
    failed = Report.objects.create(kind="monthly", period="2026-10", status=ReportStatus.FAILED)
    abandoned = Report.objects.create(kind="weekly", period="2026-W40")  # pending, no builder
    # Being made for longer than its hard time limit (on SQLite only the age tells).
    Report.objects.filter(pk=abandoned.pk).update(created_at=timezone.now() - timedelta(hours=1))
    reports.build_report("weekly", "2026-W41")
    owed = reports.reports_owed()
    assert ("monthly", "2026-10") in owed and ("weekly", "2026-W40") in owed
    assert ("weekly", "2026-W41") not in owed
    Report.objects.filter(pk=failed.pk).update(attempts=reports.REPORT_MAX_ATTEMPTS)
    assert ("monthly", "2026-10") not in reports.reports_owed()  # waits for an operator
    report, made = reports.build_report("weekly", "2026-W40")
    assert made and report.pk == abandoned.pk and report.status == ReportStatus.DONE


def test_a_done_report_that_was_never_mailed_is_mailed_by_the_sweep_once(year, settings):
    settings.FUND_REPORT_RECIPIENTS = ["fonds@example.org"]
    report, _made = reports.build_report("weekly", "2026-W41")
    Message.objects.all().delete()  # as an earlier release left it: done, mail lost
    Report.objects.filter(pk=report.pk).update(emailed_at=None)
    assert reports.reports_unmailed() == [report.pk]
    assert reports_mail.mail_unmailed(report.pk) == 1
    assert reports.reports_unmailed() == []
    assert reports_mail.mail_unmailed(report.pk) == 0
    assert [m.to for m in deliver_outbox()] == [["fonds@example.org"]]


def test_a_failed_report_sends_nothing(year, monkeypatch, settings):
    settings.FUND_REPORT_RECIPIENTS = ["fonds@example.org"]
    monkeypatch.setattr(reports, "to_xlsx", lambda data: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        reports.build_report("weekly", "2026-W42")
    assert not Message.objects.exists()


# --- Honest figures -----------------------------------------------------------------------------


def test_a_report_states_when_its_figures_were_taken(year, settings):
    settings.FUND_REPORT_RECIPIENTS = ["fonds@example.org"]
    before = timezone.now()
    report, _made = reports.build_report("weekly", "2026-W30")
    taken = datetime.fromisoformat(report.data["taken_at"])
    assert before <= taken <= timezone.now()
    book = openpyxl.load_workbook(io.BytesIO(bytes(report.xlsx)))
    assert ["Cijfers opgemaakt op", report.data["taken_at"]] in [
        [cell.value for cell in row] for row in book["Samenvatting"].iter_rows()
    ]
    [message] = deliver_outbox()
    assert "Cijfers opgemaakt op" in message.body


def test_since_the_previous_report_means_the_previous_period_not_the_newest_row(year):
    actor = StaffFactory(username="since")
    post_with_active_projects(actor, year, ["100000.00"])
    reports.build_report("weekly", "2026-W12")  # made first, a later period
    post_with_active_projects(actor, year, ["200000.00"])
    w11, _made = reports.build_report("weekly", "2026-W11")  # caught up afterwards
    assert w11.data["previous_period"] is None and w11.data["changes"] == {}
    post_with_active_projects(actor, year, ["300000.00"])
    w13, _made = reports.build_report("weekly", "2026-W13")
    assert w13.data["previous_period"] == "2026-W12"
    assert Decimal(w13.data["changes"]["committed"]) == Decimal("500000.00")
    assert reports.previous_period("weekly", "2027-W01") == "2026-W53"
    assert reports.previous_period("monthly", "2027-01") == "2026-12"
    assert reports.previous_period("results", "2027") == "2026"


def test_a_text_stored_before_the_check_does_not_break_the_fund_wide_file(year):
    data = {"fund_year": 2026, "headline": {}, "warnings": ["Aantal \x01 personen\u202e"],
            "results": [{"indicator": "Aantal \x01 personen", "unit": "p\x0bers"}]}  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(reports.to_xlsx(data)))
    assert book["Resultaten"]["D2"].value == "Aantal  personen"
    assert "\x01" not in reports.to_csv(data)


# --- The reminder's edges (R10) -----------------------------------------------------------------


@pytest.fixture
def reminded(year):
    """A 2027 fund year with a participating post whose editor reads English."""
    actor = StaffFactory(username="edges")
    coming = FundYear.objects.create(
        year=2027, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2026, 12, 15)
    )
    post = make_participant(actor, coming)
    user = UserFactory(username="editor", email="editor@example.org")
    membership_set(actor=actor, user=user, post=post, role=PostRole.EDITOR, language="en")
    return {"actor": actor, "year": coming, "post": post}


def reminded_posts(day: date) -> list[str]:
    return [row["post"] for row in reports.plan_reminders(day)["reminders"]]


def test_a_plan_due_in_exactly_fourteen_days_is_reminded_and_in_fifteen_not_R10(reminded):
    deadline = reminded["year"].plan_submission_deadline
    assert reminded_posts(deadline - timedelta(days=14)) == [reminded["post"].code]
    assert reminded_posts(deadline - timedelta(days=15)) == []


def test_a_plan_in_amendment_past_its_deadline_is_reminded_as_an_amendment_R10(reminded):
    actor, post, fund_year = reminded["actor"], reminded["post"], reminded["year"]
    plan = services.plan_submit(actor=actor, plan=make_plan(actor, post, fund_year))
    services.plan_approve(actor=actor, plan=plan)
    past = fund_year.plan_submission_deadline + timedelta(days=3)
    assert reminded_posts(past) == []  # approved: with the ministry, nothing to remind
    services.plan_amend(actor=actor, plan=plan, comment="Nieuwe situatie.")
    [row] = reports.plan_reminders(past)["reminders"]
    assert (row["post"], row["status"], row["overdue"]) == (post.code, "amending", True)
    deliver_outbox()  # the cycle's own e-mails (approved, amendment opened)
    reports.build_report("reminder", past.isoformat())
    [message] = deliver_outbox()
    assert message.subject == f"Amendment of annual plan 2027 of {post.code} not submitted yet"
    assert "amendment" in message.body and "not been submitted yet" not in message.body


def test_create_post_user_keeps_the_language_it_is_given(capsys):
    post = PostFactory()
    call_command("create_post_user", "lang", "--post", post.code, "--role", "viewer",
                 "--email", "l@example.org", "--language", "en")  # fmt: skip
    assert PostMembership.objects.get(user__username="lang").language == "en"


def test_a_new_schedule_does_not_fire_at_once_and_old_reminders_are_stale():
    from django_celery_beat.models import PeriodicTask

    weekly = PeriodicTask.objects.get(name="Wekelijkse fondssamenvatting")
    assert weekly.last_run_at is not None  # beat would otherwise fire it on its first tick
    Report.objects.create(kind="reminder", period="2026-01-05", status=ReportStatus.FAILED)
    assert ("reminder", "2026-01-05") not in reports.reports_owed()


def test_a_build_that_kills_its_worker_still_counts_its_attempt(year, monkeypatch):
    def killed(kind, period):
        raise SystemExit("the worker is gone")  # not caught as a failure: like a SIGKILL

    monkeypatch.setattr(reports, "_content", killed)
    with pytest.raises(SystemExit):
        reports.build_report("weekly", "2026-W43")
    report = Report.objects.get(kind="weekly", period="2026-W43")
    assert (report.status, report.attempts) == (ReportStatus.PENDING, 1)


def test_the_schedules_include_the_sweep_and_the_delivery():
    from django_celery_beat.models import PeriodicTask

    tasks = dict(PeriodicTask.objects.values_list("task", "crontab__minute"))
    assert tasks["reports.tasks.sweep"] == "*/10"
    assert tasks["outbox.tasks.deliver"] == "*"
    weekly = PeriodicTask.objects.get(name="Wekelijkse fondssamenvatting")
    assert json.loads(weekly.args) == ["weekly"] and weekly.start_time is not None


def test_housekeeping_removes_expired_sessions_keys_and_old_sent_e_mails(settings):
    from django.contrib.sessions.models import Session
    from django_celery_beat.models import PeriodicTask

    from grants.models import IdempotentRequest
    from outbox.services import Letter, enqueue
    from reports.tasks import housekeeping

    user = UserFactory(username="keys")
    old = IdempotentRequest.objects.create(user=user, key="old", fingerprint="f", status_code=201)
    IdempotentRequest.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    IdempotentRequest.objects.create(user=user, key="new", fingerprint="f", status_code=201)
    Session.objects.create(session_key="gone", session_data="", expire_date=timezone.now()
                           - timedelta(days=1))  # fmt: skip
    enqueue("old", [Letter(to="a@x.nl", subject="s", body="b")])
    enqueue("waiting", [Letter(to="a@x.nl", subject="s", body="b")])
    Message.objects.filter(cause="old").update(
        status="sent", sent_at=timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS + 1)
    )
    assert housekeeping() == {
        "idempotency_keys": 1,
        "sent_e_mails": 1,
        "abandoned_imports": 0,
        "history_kept_days": 0,
        "reads": 0,
    }
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
    assert not Session.objects.filter(session_key="gone").exists()
    assert list(Message.objects.values_list("cause", flat=True)) == ["waiting"]
    assert PeriodicTask.objects.get(name="Dagelijks opruimen").task == "reports.tasks.housekeeping"
