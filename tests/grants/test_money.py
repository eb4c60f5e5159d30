"""R5 money: decimals only, never negative, within the allocation and the envelope."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from grants import selectors, services
from grants.models import (
    Allocation,
    BudgetLine,
    BudgetTotal,
    Disbursement,
    MoneyOverview,
    Project,
    ProjectStatus,
)
from grants.services import ChosenPriority
from tests.factories import FundYearFactory, PostFactory
from tests.helpers import make_participant, make_plan, make_project, priority, refuses

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", [-1, "-0.01", 1.5, "abc", "1.001", "NaN", "Infinity", None])
def test_bad_money_is_refused_R5(actor, year2026, amount):
    post = make_participant(actor, year2026, allocation=None)
    with refuses("R5", field="amount"):
        services.allocation_set(actor=actor, post=post, fund_year=year2026, amount=amount)
    assert not Allocation.objects.filter(post=post).exists()


def test_money_is_exact_decimal_R5(actor, year2026):
    post = make_participant(actor, year2026, allocation="1234.50")
    assert post.allocations.get().amount == Decimal("1234.50")


def test_allocations_never_exceed_the_envelope_R5(actor):
    fund_year = FundYearFactory(year=2026, envelope=Decimal("1000000.00"))
    make_participant(actor, fund_year, allocation=Decimal("600000.00"))
    second = make_participant(actor, fund_year, allocation=None)
    with refuses("R5", field="amount") as info:
        services.allocation_set(actor=actor, post=second, fund_year=fund_year, amount="400000.01")
    assert "1.000.000" in str(info.value) or "1,000,000" in str(info.value)
    services.allocation_set(actor=actor, post=second, fund_year=fund_year, amount="400000.00")


def test_envelope_cannot_drop_below_allocations_R5(actor, year2026):
    make_participant(actor, year2026, allocation=Decimal("600000.00"))
    year2026.envelope = Decimal("500000.00")
    with refuses("R5", field="envelope"):
        services.fund_year_save(actor=actor, fund_year=year2026)


def test_only_participating_posts_get_an_allocation_R6(actor, year2026):
    with refuses("R6", field="post"):
        services.allocation_set(actor=actor, post=PostFactory(), fund_year=year2026, amount=1)


def test_allocation_cannot_drop_below_committed_money_R5(actor, plan, participant, year2026):
    make_project(actor, participant, budget={2026: Decimal("300000.00")})
    with refuses("R5"):
        services.allocation_set(
            actor=actor, post=participant, fund_year=year2026, amount="350000.00"
        )  # the plan divides 400 000
    services.plan_priorities_set(
        actor=actor, plan=plan, items=[ChosenPriority("women_girls", "300000.00")]
    )
    services.allocation_set(actor=actor, post=participant, fund_year=year2026, amount="300000.00")


def test_plan_cannot_divide_more_than_the_allocation_R5(actor, plan):
    with refuses("R5", field="priorities"):
        services.plan_priorities_set(
            actor=actor,
            plan=plan,
            items=[ChosenPriority("women_girls", "600000"), ChosenPriority("lgbtiq", "400000.01")],
        )
    assert plan.plan_priorities.get().amount == Decimal("400000.00")


def test_project_money_never_exceeds_the_allocation_R5(actor, plan, participant):
    make_project(actor, participant, budget={2026: Decimal("700000.00")})
    with refuses("R5", field="budget"):
        make_project(actor, participant, budget={2026: Decimal("300000.01")})
    assert Project.objects.count() == 1  # nothing half-written
    assert BudgetLine.objects.count() == 1


def test_cancelled_projects_free_their_money_R5(actor, plan, participant):
    project = make_project(actor, participant, budget={2026: Decimal("700000.00")})
    services.project_update(actor=actor, project=project, status=ProjectStatus.CANCELLED)
    make_project(actor, participant, budget={2026: Decimal("1000000.00")})
    with refuses("R5"):  # reviving it would exceed the allocation again
        services.project_update(actor=actor, project=project, status=ProjectStatus.PLANNED)


def test_bulk_creation_respects_the_allocation_as_a_whole_R5(actor, plan, participant):
    partner = make_project(actor, participant, budget={}).partner
    spec = services.ProjectSpec(
        partner=partner,
        priority=plan.plan_priorities.get().priority,
        title="bulk",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        budget={2026: Decimal("300000.00")},
    )
    services.projects_bulk_create(actor=actor, post=participant, specs=[spec] * 3)
    with refuses("R5"):
        services.projects_bulk_create(actor=actor, post=participant, specs=[spec] * 1)
    assert BudgetLine.objects.filter(year=2026).count() == 3


def committed_project(actor, participant):
    return make_project(
        actor, participant, status=ProjectStatus.ACTIVE, budget={2026: Decimal("100000.00")}
    )


def test_disbursements_stay_within_the_years_budget_R5(actor, plan, participant):
    project = committed_project(actor, participant)
    services.disbursement_create(
        actor=actor, project=project, date=date(2026, 3, 1), amount="60000.00"
    )
    with refuses("R5", field="amount"):
        services.disbursement_create(
            actor=actor, project=project, date=date(2026, 6, 1), amount="40000.01"
        )
    with refuses("R9", field="date"):  # outside the project period
        services.disbursement_create(
            actor=actor, project=project, date=date(2027, 1, 5), amount="1.00"
        )
    assert Disbursement.objects.count() == 1


def test_no_payment_in_a_year_without_budget_R5(actor, plan, participant, year2026):
    longer = make_project(
        actor,
        participant,
        status=ProjectStatus.ACTIVE,
        end_date=date(2027, 6, 30),
        budget={2026: Decimal("100.00")},
    )
    with refuses("R5", field="amount"):
        services.disbursement_create(
            actor=actor, project=longer, date=date(2027, 1, 5), amount="1.00"
        )


def test_only_committed_projects_are_paid_R5(actor, plan, participant):
    project = make_project(actor, participant)
    with refuses("R5", field="project"):
        services.disbursement_create(
            actor=actor, project=project, date=date(2026, 3, 1), amount="10.00"
        )


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_disbursement_must_be_positive_R5(actor, plan, participant, amount):
    project = committed_project(actor, participant)
    with refuses("R5"):
        services.disbursement_create(
            actor=actor, project=project, date=date(2026, 3, 1), amount=amount
        )


def test_budget_cannot_drop_below_what_was_paid_R5(actor, plan, participant):
    project = committed_project(actor, participant)
    services.disbursement_create(
        actor=actor, project=project, date=date(2026, 3, 1), amount="60000.00"
    )
    with refuses("R5", field="budget"):
        services.project_update(actor=actor, project=project, budget={2026: "59999.99"})
    with refuses("R5", field="status"):
        services.project_update(actor=actor, project=project, status=ProjectStatus.CANCELLED)


def test_database_refuses_negative_money_R5(actor, participant, year2026):
    allocation = participant.allocations.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.filter(pk=allocation.pk).update(amount=Decimal("-1.00"))


def test_money_overview_adds_up_R5(actor, plan, participant, year2026):
    committed = committed_project(actor, participant)
    make_project(actor, participant, budget={2026: Decimal("50000.00")})
    services.disbursement_create(
        actor=actor, project=committed, date=date(2026, 3, 1), amount="25000.00"
    )
    (row,) = selectors.money_overview(
        MoneyOverview.objects.filter(post=participant, fund_year=year2026)
    )
    assert row.amount == Decimal("1000000.00")
    assert row.in_plan == Decimal("400000.00")
    assert row.planned == Decimal("50000.00")
    assert row.committed == Decimal("100000.00")
    assert row.disbursed == Decimal("25000.00")
    assert row.remaining == Decimal("850000.00")


def test_a_fund_year_keeps_its_year_R7(actor, year2025):
    year2025.year = 2030
    with refuses("R7", field="year"):
        services.fund_year_save(actor=actor, fund_year=year2025)


def test_allocation_refusal_names_plan_and_project_money_R5(actor, plan, participant, year2026):
    make_project(actor, participant, budget={2026: Decimal("300000.00")})
    with refuses("R5") as info:
        services.allocation_set(
            actor=actor, post=participant, fund_year=year2026, amount="350000.00"
        )
    message = str(info.value)
    assert "400" in message and "300" in message  # plan € 400 000, projects € 300 000


def test_review_deadline_cannot_precede_submission_deadline_R10(actor):
    from django.core.exceptions import ValidationError

    from grants.models import FundYear

    fund_year = FundYear(
        year=2029,
        envelope=Decimal("1.00"),
        plan_submission_deadline=date(2028, 11, 15),
        review_deadline=date(2028, 1, 1),
    )
    with pytest.raises(ValidationError) as info:
        services.fund_year_save(actor=actor, fund_year=fund_year)
    assert "R10" in str(info.value)


def _live_totals() -> dict:
    """The budget lines' sums and numbers per post, year, priority and project status,
    added up now."""
    from django.db.models import Count, Sum

    rows = BudgetLine.objects.values(
        "project__post", "year", "project__priority", "project__status"
    ).annotate(total=Sum("amount"), lines=Count("pk"))
    return {
        (row["project__post"], row["year"], row["project__priority"], row["project__status"]): (
            row["total"],
            row["lines"],
        )
        for row in rows
    }


def _kept_totals() -> dict:
    return {
        (row.post_id, row.year, row.priority_id, row.status): (row.amount, row.lines)
        for row in BudgetTotal.objects.all()
        if row.lines  # a cell whose lines are all gone stays, empty
    }


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the totals are kept by PostgreSQL's triggers",
)
def test_the_kept_budget_totals_follow_every_kind_of_write_R5(actor, year2026):
    """BudgetTotal (migration 0013) against the lines added up, after writes through the
    services, a status change, a bulk insert, an update and a delete by hand, and a project's
    deletion; and the money overview reads them."""
    post = make_participant(actor, year2026, allocation=Decimal("900000.00"))
    other = make_participant(actor, year2026, allocation=Decimal("900000.00"))
    for each in (post, other):
        make_plan(actor, each, year2026)  # women_girls (R4)
    first = make_project(actor, post, end_date=date(2027, 12, 31), budget={2026: "100.00"})
    second = make_project(actor, other, budget={2026: "250.50"})
    assert _kept_totals() == _live_totals()
    services.project_update(actor=actor, project=first, budget={2026: Decimal("120.00")})
    assert _kept_totals() == _live_totals()
    services.project_update(actor=actor, project=first, status=ProjectStatus.ACTIVE)
    services.project_update(actor=actor, project=second, status=ProjectStatus.CANCELLED)
    assert _kept_totals() == _live_totals()
    BudgetLine.objects.create(project=first, year=2027, amount=Decimal("30.00"))  # by hand
    rows = {row.post_id: row for row in selectors.money_overview() if row.fund_year.year == 2026}
    assert (rows[post.pk].committed, rows[post.pk].planned) == (Decimal("120.00"), 0)
    assert (rows[other.pk].committed, rows[other.pk].planned) == (0, 0)  # cancelled: nowhere
    third = make_project(actor, post, budget={})
    BudgetLine.objects.bulk_create([BudgetLine(project=third, year=2026, amount=Decimal("7.25"))])
    assert selectors.money_overview(
        [row for row in selectors.money_overview() if row.post_id == post.pk]
    )[0].planned == Decimal("7.25")
    BudgetLine.objects.filter(project=first, year=2027).update(amount=Decimal("31.00"))
    BudgetLine.objects.filter(project=first, year=2026).delete()
    assert _kept_totals() == _live_totals()
    Project.objects.filter(pk=third.pk).delete()  # its lines go first (Django's cascade)
    assert _kept_totals() == _live_totals()
    assert (post.pk, 2027, first.priority_id, ProjectStatus.ACTIVE) in _kept_totals()
    Project.objects.filter(pk=first.pk).update(priority=priority("expression"))  # by hand
    assert _kept_totals() == _live_totals()  # the lines moved to the other priority
    money = selectors.year_money(year2026)
    assert money.total("committed", post=post.pk) == 0  # its 2026 line was deleted above
    with connection.cursor() as cursor:  # no row triggers fire: a statement trigger empties
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's pending key checks first
        cursor.execute("TRUNCATE grants_budgetline")
    assert not BudgetTotal.objects.exists()
