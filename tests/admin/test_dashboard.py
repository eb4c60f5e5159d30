"""The fund-year dashboard: figures that add up, a constant number of queries, ministry only."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants import services
from grants.models import FundYear, PlanStatus, ProjectStatus
from grants.selectors import fund_year_dashboard
from tests.factories import PartnerFactory, StaffFactory
from tests.helpers import make_participant, make_plan, priority

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    return FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )


def add_post(actor, year, *, projects: int, submit: bool):
    post = make_participant(actor, year, allocation=Decimal("1000000.00"))
    plan = make_plan(actor, post, year, priorities=(("women_girls", "500000.00"),))
    partner = PartnerFactory(post=post)
    for index in range(projects):
        project = services.project_create(
            actor=actor,
            post=post,
            partner=partner,
            priority=priority("women_girls"),
            title=f"P{index}",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
            status=ProjectStatus.ACTIVE if index % 2 else ProjectStatus.PLANNED,
            budget={2026: Decimal("1000.00")},
        )
        if index % 2:
            services.disbursement_create(
                actor=actor, project=project, date=date(2026, 2, 1), amount=Decimal("100.00")
            )
    if submit:
        services.plan_submit(actor=actor, plan=plan)
    return post


def test_the_figures_add_up_against_a_plain_computation(year):
    actor = StaffFactory(username="dash")
    add_post(actor, year, projects=4, submit=True)
    add_post(actor, year, projects=3, submit=False)
    board = fund_year_dashboard(year, today=date(2026, 1, 10))
    women = next(r for r in board["per_priority"] if r["priority"].code == "women_girls")
    # Plain sums of what was made above: 7 projects of € 1,000; 3 active (odd index) paid € 100.
    assert women["in_plan"] == Decimal("1000000.00")
    assert women["committed"] == Decimal("3000.00")  # indexes 1, 3 and 1
    assert women["planned"] == Decimal("4000.00")
    assert women["disbursed"] == Decimal("300.00")
    assert board["totals"]["amount"] == Decimal("2000000.00")
    assert board["totals"]["remaining"] == Decimal("2000000.00") - Decimal("7000.00")
    counts = {row["status"]: row["count"] for row in board["plans_by_status"]}
    assert counts[PlanStatus.SUBMITTED] == 1 and counts[PlanStatus.DRAFT] == 1
    # Past the deadline: the draft plan is overdue, the submitted one is not.
    assert [plan.status for plan in board["overdue_plans"]] == [PlanStatus.DRAFT]


def test_the_dashboard_costs_the_same_queries_at_any_size(year, admin_client):
    actor = StaffFactory(username="dash2")
    add_post(actor, year, projects=1, submit=True)
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get("/admin/dashboard/?year=2026").status_code == 200
    for _post in range(3):
        add_post(actor, year, projects=6, submit=False)
    with CaptureQueriesContext(connection) as large:
        response = admin_client.get("/admin/dashboard/?year=2026")
    assert len(large) == len(small)
    html = response.content.decode()
    assert "<svg" in html and "bar-projects" in html  # the chart


def test_only_ministry_staff_see_the_dashboard(client, year):
    assert client.get("/admin/dashboard/").status_code == 302  # to the login
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="no-role", is_staff=True))
    assert client.get("/admin/dashboard/").status_code == 403


def test_the_root_leads_to_the_dashboard(admin_client, year):
    response = admin_client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/dashboard/"
    assert response.status_code == 200


def test_the_money_overview_sorts_by_its_computed_columns_R5(year, admin_client):
    actor = StaffFactory(username="sorter")
    add_post(actor, year, projects=1, submit=False)  # remaining 1,000,000 − 1,000
    add_post(actor, year, projects=5, submit=False)  # remaining 1,000,000 − 5,000
    # Column 7 is "remaining" (0-based; the list has no action checkbox).
    for order, expected in (("7", ["995000.00", "999000.00"]), ("-7", ["999000.00", "995000.00"])):
        response = admin_client.get("/admin/grants/moneyoverview/", {"o": order})
        rows = response.context["cl"].result_list
        assert [str(row.remaining) for row in rows] == expected, order
        assert "995.000,00" in response.content.decode()


def test_the_money_overview_has_a_totals_row_and_an_xlsx_export_R5(year, admin_client):
    """Issue 20: totals over every filtered row (not only the page), a count that reads
    "2 posten en jaren", and the same rows and totals as XLSX."""
    import io

    import openpyxl

    actor = StaffFactory(username="totaliser")
    add_post(actor, year, projects=1, submit=False)
    add_post(actor, year, projects=5, submit=False)
    response = admin_client.get("/admin/grants/moneyoverview/", HTTP_ACCEPT_LANGUAGE="nl")
    html = response.content.decode()
    totals = html[html.find('class="totals"') :]
    assert "Totaal van 2 posten en jaren" in totals
    assert "2.000.000,00" in totals and "1.994.000,00" in totals  # allocated, remaining
    assert "2 posten en jaren" in html[html.find('class="paginator"') :]
    assert "/admin/grants/moneyoverview/export/xlsx/" in html
    export = admin_client.get(
        "/admin/grants/moneyoverview/export/xlsx/?o=-7", HTTP_ACCEPT_LANGUAGE="nl"
    )
    assert export.status_code == 200
    assert export["Content-Disposition"] == 'attachment; filename="financieel-overzicht.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "Financieel overzicht"
    from django.utils import translation

    with translation.override("nl"):
        dutch = [translation.gettext(t) for t in ("fund year", "allocated", "remaining")]
    assert rows[0][1] == dutch[0] and rows[0][2] == dutch[1] and rows[0][-1] == dutch[2]
    assert dutch != ["fund year", "allocated", "remaining"]
    assert len(rows) == 4  # header, two rows, totals
    assert rows[-1][0] == "Totaal" and float(rows[-1][2]) == 2_000_000
    assert float(rows[-1][-1]) == 1_994_000


def test_a_plan_under_amendment_is_not_counted_late_R10(year, admin_client):
    """Issue 20: an amendment of an approved plan is not a plan owed past its deadline — on
    the dashboard nor in the plan list's "overdue" filter; a draft is."""
    from datetime import timedelta

    from django.utils import timezone

    from grants import services
    from grants.models import AnnualPlan

    actor = StaffFactory(username="amender")
    amended = AnnualPlan.objects.get(post=add_post(actor, year, projects=0, submit=True))
    services.plan_approve(actor=actor, plan=amended)
    services.plan_amend(actor=actor, plan=AnnualPlan.objects.get(pk=amended.pk), comment="Nieuw.")
    draft = AnnualPlan.objects.get(post=add_post(actor, year, projects=0, submit=False))
    year.plan_submission_deadline = timezone.localdate() - timedelta(days=1)
    year.save()
    page = admin_client.get("/admin/dashboard/", {"year": year.year})
    assert [plan.pk for plan in page.context["overdue_plans"]] == [draft.pk]
    listed = admin_client.get("/admin/grants/annualplan/", {"overdue": "submission"})
    assert [plan.pk for plan in listed.context["cl"].result_list] == [draft.pk]


def test_screens_open_on_the_year_at_hand_R10_R13(db):
    """Issue 20: in December, with the next year's plans under review, the dashboard opens on
    that year; the results overview opens on the latest year with results, not an empty
    future year."""
    from grants.models import FundYear
    from grants.selectors import plan_year_at_hand, results_year_at_hand

    years = [
        FundYear(year=2028, envelope=1, plan_submission_deadline=date(2027, 11, 15)),
        FundYear(year=2027, envelope=1, plan_submission_deadline=date(2026, 11, 15)),
        FundYear(year=2026, envelope=1, plan_submission_deadline=date(2025, 11, 15)),
    ]
    assert plan_year_at_hand(years, date(2026, 12, 3)).year == 2027
    assert plan_year_at_hand(years, date(2026, 10, 1)).year == 2026
    assert plan_year_at_hand(years, date(2028, 12, 1)).year == 2028
    assert plan_year_at_hand([], date(2026, 1, 1)) is None
    assert results_year_at_hand(years, date(2026, 12, 3)).year == 2026  # nothing reported yet
