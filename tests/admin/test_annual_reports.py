"""The ministry's side of the annual report (R10, R13): the review queue, the page with plan
and report side by side, the decisions on it, and the results overview across posts."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.formats import number_format

from fund.access import ensure_roles
from grants import services
from grants.models import AnnualReport, AnnualReportStatus, ReportTransition
from priorities.models import IntendedResult
from tests.factories import StaffFactory, UserFactory
from tests.helpers import REPORTED_YEAR, post_with_a_reported_year

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted_report(year2026):
    """A submitted annual report on REPORTED_YEAR, with progress on every aim."""
    ensure_roles()
    builder = StaffFactory(username="report-builder")
    post, _plan = post_with_a_reported_year(builder, year2026)
    report = services.annual_report_create(actor=builder, post=post, fund_year=year2026)
    aims = IntendedResult.objects.filter(plan_aims__plan_priority__plan__post=post)
    services.annual_report_update(
        actor=builder,
        report=report,
        summary="Een jaar van opbouw.",
        progress={result: f"Voortgang op {result.code}." for result in aims},
    )
    return services.annual_report_submit(actor=builder, report=report)


def localized(number: str) -> str:
    """A decimal as the Dutch admin writes it (4,00)."""
    return number_format(Decimal(number), 2, use_l10n=True)


def logged_in(client, group: str, name: str):
    user = UserFactory(username=name, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


def test_submitted_reports_appear_in_the_review_queue_R10(client, submitted_report):
    queue = logged_in(client, "beoordelaar", "reviewer").get(
        "/admin/grants/annualplan/?annual_report=submitted"
    )
    html = queue.content.decode()
    assert queue.status_code == 200
    assert submitted_report.post.code in html
    assert f"/admin/grants/annualreport/{submitted_report.pk}/side-by-side/" in html
    empty = client.get("/admin/grants/annualplan/?annual_report=accepted")
    assert submitted_report.post.code not in empty.content.decode().split("result_list")[-1]


def test_the_side_by_side_page_shows_plan_and_report_R13(client, submitted_report):
    page = logged_in(client, "beoordelaar", "reviewer").get(
        f"/admin/grants/annualreport/{submitted_report.pk}/side-by-side/"
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "Een jaar van opbouw." in html
    for _amount, aims in REPORTED_YEAR["priorities"].values():
        for code in aims:
            assert f"Voortgang op {code}." in html
            assert str(IntendedResult.objects.get(code=code)) in html
    # Reported values beside the aims, money in the plan beside the money spent.
    assert f"Shelters {localized('4.00')} shelters" in html
    assert f"Cases heard {localized('12.50')} cases" in html
    disbursed = sum(Decimal(a) for project in REPORTED_YEAR["projects"] for a in project["paid"])
    assert number_format(disbursed, 2, use_l10n=True, force_grouping=True) in html
    assert number_format(Decimal("500000.00"), 2, use_l10n=True, force_grouping=True) in html
    assert "Partner" not in html  # R11: no partner names on this page
    assert 'value="accept"' in html and 'value="return"' in html


def test_a_reader_sees_the_page_without_decisions(client, submitted_report):
    page = logged_in(client, "alleen-lezen", "reader").get(
        f"/admin/grants/annualreport/{submitted_report.pk}/side-by-side/"
    )
    assert page.status_code == 200
    assert 'value="accept"' not in page.content.decode()
    refused = client.post(
        f"/admin/grants/annualreport/{submitted_report.pk}/side-by-side/",
        {"step": "accept", "comment": ""},
    )
    assert refused.status_code == 403
    assert AnnualReport.objects.get(pk=submitted_report.pk).status == AnnualReportStatus.SUBMITTED


def test_the_reviewer_returns_with_a_comment_and_accepts_R10(client, submitted_report):
    url = f"/admin/grants/annualreport/{submitted_report.pk}/side-by-side/"
    logged_in(client, "beoordelaar", "reviewer")
    client.post(url, {"step": "return", "comment": ""})  # refused: a return says why
    assert AnnualReport.objects.get(pk=submitted_report.pk).status == AnnualReportStatus.SUBMITTED
    client.post(url, {"step": "return", "comment": "Graag meer cijfers."})
    report = AnnualReport.objects.get(pk=submitted_report.pk)
    assert report.status == AnnualReportStatus.RETURNED
    last = ReportTransition.objects.filter(report=report).last()
    assert (last.actor.username, last.comment) == ("reviewer", "Graag meer cijfers.")
    builder = StaffFactory(username="report-builder")
    services.annual_report_submit(actor=builder, report=report)
    client.post(url, {"step": "accept", "comment": ""})
    assert AnnualReport.objects.get(pk=report.pk).status == AnnualReportStatus.ACCEPTED


def test_a_missing_report_is_404(client, submitted_report):
    logged_in(client, "beoordelaar", "reviewer")
    assert client.get("/admin/grants/annualreport/999999/side-by-side/").status_code == 404


def test_the_results_overview_adds_up_in_constant_queries_R13(client, submitted_report, year2026):
    logged_in(client, "alleen-lezen", "reader")
    url = "/admin/grants/annualreport/results/?year=2026"
    with CaptureQueriesContext(connection) as one:
        page = client.get(url)
    assert page.status_code == 200
    builder = StaffFactory(username="report-builder")
    post_with_a_reported_year(builder, year2026)
    post_with_a_reported_year(builder, year2026)
    with CaptureQueriesContext(connection) as three:
        page = client.get(url)
    assert len(three) == len(one)
    html = page.content.decode()
    assert f"{localized('12.00')} shelters" in html  # 3 posts × 4 shelters
    assert f"{localized('37.50')} cases" in html  # 3 posts × 12.50 cases heard (srhr)
