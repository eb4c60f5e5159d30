"""Periodic reports: figures that match an independent computation, made and e-mailed once
per period, in a constant number of queries, a failure recorded and retried (R5, R9, R13)."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants import services
from grants.models import FundYear, ProjectStatus
from reports import mail as reports_mail
from reports import services as reports
from reports.models import Report, ReportStatus
from tests.factories import StaffFactory
from tests.helpers import (
    deliver_outbox,
    make_participant,
    make_plan,
    make_project,
    post_with_active_projects,
    priority,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    return FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )


def test_the_weekly_figures_match_a_plain_computation(year):
    actor = StaffFactory(username="rep")
    inputs = [["200000.00", "50000.00"], ["950000.00"]]
    posts = [post_with_active_projects(actor, year, amounts) for amounts in inputs]
    data = reports.summary(year)
    committed = sum(Decimal(a) for amounts in inputs for a in amounts)
    assert Decimal(data["headline"]["allocated"]) == Decimal("2000000.00")
    assert Decimal(data["headline"]["committed"]) == committed
    assert Decimal(data["headline"]["disbursed"]) == committed / 10
    assert Decimal(data["headline"]["remaining"]) == Decimal("2000000.00") - committed
    by_post = {row["post"]: row for row in data["per_post"]}
    assert by_post[posts[1].code]["executed_pct"] == "9.5"
    # The second post uses 95 % of its allocation: a warning names it.
    assert any(posts[1].code in warning for warning in data["warnings"])
    assert not any("Geheim" in str(value) for value in data.values())  # R11


def test_a_report_is_made_and_mailed_once_per_period(year, settings):
    settings.FUND_REPORT_RECIPIENTS = ["fonds@example.org"]
    post_with_active_projects(StaffFactory(username="rep2"), year, ["100000.00"])
    report, made = reports.build_report("weekly", "2026-W10")
    again, made_again = reports.build_report("weekly", "2026-W10")
    assert (made, made_again) == (True, False)
    assert again.pk == report.pk and Report.objects.count() == 1
    [message] = deliver_outbox()
    assert deliver_outbox() == []  # mailed once
    assert reports_mail.mail_unmailed(report.pk) == 0  # its e-mails were queued with it
    assert message.attachments[0][0] == "weekly-2026-W10.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(message.attachments[0][1]))
    sheets = {"Samenvatting", "Per prioriteit", "Per post", "Jaarplannen per status"}
    assert sheets <= set(book.sheetnames)
    sheet = book["Per post"]
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].number_format.startswith('"€"')


def test_the_summary_costs_the_same_queries_at_two_sizes(year):
    actor = StaffFactory(username="rep3")
    post_with_active_projects(actor, year, ["100000.00"])
    with CaptureQueriesContext(connection) as small:
        reports.summary(year)
    for _post in range(3):
        post_with_active_projects(actor, year, ["100000.00", "120000.00", "130000.00"])
    with CaptureQueriesContext(connection) as large:
        reports.summary(year)
    assert len(large) == len(small)


def test_a_failed_report_is_recorded_and_made_on_the_next_run(year, monkeypatch):
    def broken(kind, period):
        raise RuntimeError("database went away")

    monkeypatch.setattr(reports, "_content", broken)
    with pytest.raises(RuntimeError):
        reports.build_report("monthly", "2026-10")
    failed = Report.objects.get(kind="monthly", period="2026-10")
    assert failed.status == ReportStatus.FAILED
    assert "database went away" in failed.failure_reason
    monkeypatch.undo()
    report, made = reports.build_report("monthly", "2026-10")
    assert made and report.status == ReportStatus.DONE and report.attempts == 2


def test_the_results_report_lists_indicators_with_their_values_R13(year):
    actor = StaffFactory(username="rep4")
    post = post_with_active_projects(actor, year, ["100000.00"])
    project = post.projects.get()
    result = priority("women_girls").intended_results.first()
    services.project_update(actor=actor, project=project, intended_results=[result])
    indicator = services.indicator_save(
        actor=actor,
        project=project,
        intended_result=result,
        name="Bereikte vrouwen",
        unit="personen",
        baseline=0,
        target=100,
    )
    services.indicator_value_set(actor=actor, indicator=indicator, year=2026, value=40)
    data = reports.results(2026)
    [row] = data["results"]
    assert (row["indicator"], row["target"], row["value"]) == (
        "Bereikte vrouwen",
        "100.00",
        "40.00",
    )


def test_make_report_runs_the_same_code_for_operators(year, capsys):
    call_command("make_report", "weekly", "--period", "2026-W11")
    call_command("make_report", "weekly", "--period", "2026-W11")
    output = capsys.readouterr().out
    assert "gemaakt" in output and "bestond al" in output  # in the fund's language
    assert Report.objects.filter(kind="weekly", period="2026-W11").count() == 1


def test_the_default_schedules_exist_once():
    from django_celery_beat.models import PeriodicTask

    from reports.schedules import ensure_schedules

    ensure_schedules()
    ensure_schedules()
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert "Wekelijkse fondssamenvatting" in names
    weekly = PeriodicTask.objects.get(name="Wekelijkse fondssamenvatting")
    assert (weekly.crontab.hour, weekly.crontab.day_of_week) == ("7", "1")
    assert str(weekly.crontab.timezone) == "Europe/Amsterdam"


def test_the_daily_reminder_reaches_posts_with_a_plan_due_or_overdue_once_R10(year):
    from countries.models import PostRole
    from countries.services import membership_set
    from tests.factories import UserFactory

    actor = StaffFactory(username="rem")
    coming = FundYear.objects.create(
        year=2027, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2026, 12, 5)
    )
    late = make_participant(actor, coming)  # no plan yet
    done = make_participant(actor, coming)
    services.plan_submit(actor=actor, plan=make_plan(actor, done, coming))
    for post, address, language in (
        (late, "late@example.org", "en"),
        (done, "d@example.org", "nl"),
    ):
        membership_set(
            actor=actor,
            user=UserFactory(username=address, email=address),
            post=post,
            role=PostRole.EDITOR,
            language=language,
        )
    report, made = reports.build_report("reminder", "2026-11-30")  # 5 days before
    assert made
    assert [row["post"] for row in report.data["reminders"]] == [late.code]
    [message] = deliver_outbox()
    assert reports.build_report("reminder", "2026-11-30")[1] is False
    assert deliver_outbox() == []  # once a day
    assert message.to == ["late@example.org"]
    assert "due on 2026-12-05" in message.subject


def test_the_warnings_count_off_plan_and_small_projects_like_a_plain_computation_R4_R9(year):
    """R4: projects on a priority the plan no longer chooses; R9: projects whose total over
    all their years is below the minimum. Checked against sums over the factory inputs."""
    actor = StaffFactory(username="rep-warn")
    year.min_project_size = Decimal("100000.00")
    year.save()
    next_year = FundYear.objects.create(
        year=2027, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2026, 11, 15)
    )
    post = make_participant(actor, year, allocation=Decimal("3000000.00"))
    make_participant(actor, next_year, post=post)
    plan = make_plan(actor, post, year, priorities=(("women_girls", "2000000.00"),))
    make_plan(actor, post, next_year, priorities=(("women_girls", "500000.00"),))
    # (amount in 2026, amount in 2027, status): the total decides R9, not the 2026 share.
    budgets = [
        ("60000.00", None, ProjectStatus.ACTIVE),  # small
        ("60000.00", "60000.00", ProjectStatus.PLANNED),  # 120 000 in total: not small
        ("99999.99", None, ProjectStatus.PLANNED),  # small
        ("500000.00", None, ProjectStatus.COMPLETED),
        ("10000.00", None, ProjectStatus.CANCELLED),  # cancelled: not counted
    ]
    for index, (this_year, following_year, status) in enumerate(budgets):
        budget = {2026: Decimal(this_year)}
        if following_year:
            budget[2027] = Decimal(following_year)
        project = make_project(
            actor,
            post,
            title=f"W{index}",
            end_date=date(2027 if following_year else 2026, 12, 31),
            status=ProjectStatus.PLANNED if status == ProjectStatus.CANCELLED else status,
            budget=budget,
        )
        if status == ProjectStatus.CANCELLED:
            services.project_update(actor=actor, project=project, status=status)
    counted = [b for b in budgets if b[2] != ProjectStatus.CANCELLED]
    small = [b for b in counted if Decimal(b[0]) + Decimal(b[1] or 0) < year.min_project_size]
    # The plan later chooses another priority (e.g. an amendment): the planned and active
    # projects on women_girls are now off plan (R4); completed ones are history.
    plan.plan_priorities.update(priority=priority("expression"))
    off_plan = [b for b in counted if b[2] in (ProjectStatus.PLANNED, ProjectStatus.ACTIVE)]

    warnings = reports.summary(year)["warnings"]

    assert f"{len(small)} van {len(counted)} projecten zijn kleiner" in " ".join(warnings)
    assert (
        f"{post.code}: {len(off_plan)} project(en) op een prioriteit die het plan niet kiest (R4)."
        in warnings
    )


@pytest.mark.django_db
def test_the_iati_list_filters_by_the_projects_an_export_holds(admin_client):
    """Issue 20: the filter offers "all years" and each year exported, not a lone "-"."""
    from reports.models import IatiExport

    every = IatiExport.objects.create(year=None)
    of_2026 = IatiExport.objects.create(year=2026)
    url = "/admin/reports/iatiexport/"
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "alle jaren" in page and "met geld in 2026" in page
    shown = admin_client.get(f"{url}?scope=all").context["cl"].result_list
    assert list(shown) == [every]
    shown = admin_client.get(f"{url}?scope=2026").context["cl"].result_list
    assert list(shown) == [of_2026]
