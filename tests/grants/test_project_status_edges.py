"""Completed and cancelled projects at the edges of every rule and figure that counts projects
(pinned before the redesign moves what "the projects of a post's year" means):

- a completed project still belongs to its year: its priority stays in the plan (R4), its post
  cannot leave that year (R6), and its money counts against the allocation (R5) and in the money
  overview's committed sum;
- a cancelled project belongs to no year: it holds no priority, no participation and no money.
"""

from decimal import Decimal

import pytest

from grants import selectors, services
from grants.models import MoneyOverview, Project, ProjectStatus
from grants.selectors import money_overview
from grants.services import ChosenPriority
from tests.helpers import make_project, refuses

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(actor, plan, participant):
    """An active 2026 project of € 300 000, then completed."""
    project = make_project(
        actor, participant, status=ProjectStatus.ACTIVE, budget={2026: Decimal("300000.00")}
    )
    return services.project_update(actor=actor, project=project, status=ProjectStatus.COMPLETED)


@pytest.fixture
def dropped(actor, plan, participant):
    """A planned 2026 project of € 300 000, then cancelled."""
    project = make_project(actor, participant, budget={2026: Decimal("300000.00")})
    return services.project_update(actor=actor, project=project, status=ProjectStatus.CANCELLED)


def test_a_completed_project_belongs_to_its_year_a_cancelled_one_does_not_R4_R6(
    finished, dropped, participant
):
    in_year = set(Project.objects.filter(post=participant).of_year(2026))
    assert finished in in_year and dropped not in in_year
    assert not Project.objects.filter(post=participant).of_year(2027).exists()


def test_a_completed_projects_priority_cannot_be_dropped_R4(actor, plan, finished):
    with refuses("R4", field="priorities"):
        services.plan_priorities_set(
            actor=actor, plan=plan, items=[ChosenPriority("lgbtiq", "1000.00")]
        )


def test_a_cancelled_projects_priority_can_be_dropped_R4(actor, plan, dropped):
    services.plan_priorities_set(
        actor=actor, plan=plan, items=[ChosenPriority("lgbtiq", "1000.00")]
    )
    assert [pp.priority.code for pp in plan.plan_priorities.all()] == ["lgbtiq"]


def test_a_completed_project_keeps_its_post_in_the_year_R6(actor, plan, finished, participant):
    """The way out of a year is: withdraw the plan, allocate nothing, deselect. It stops at
    the first step, because the completed project still needs the plan's priority (R4). So
    the post keeps taking part in 2026 (R6)."""
    from countries.models import Participation

    with refuses("R4"):
        services.plan_withdraw(actor=actor, plan=plan)
    assert Participation.objects.get(post=participant, fund_year=plan.fund_year).selected


def test_with_only_a_cancelled_project_the_plan_can_be_withdrawn_R4_R6(actor, plan, dropped):
    services.plan_withdraw(actor=actor, plan=plan)


def test_completed_money_counts_cancelled_money_does_not_R5(
    actor, plan, participant, finished, dropped
):
    # € 1 000 000 allocated; € 300 000 completed counts, € 300 000 cancelled does not.
    assert selectors.post_year_headroom(post=participant, year=2026) == Decimal("700000.00")
    [row] = money_overview(MoneyOverview.objects.filter(post=participant))
    assert row.committed == Decimal("300000.00")  # completed is committed money
    assert row.planned == Decimal("0.00")  # the cancelled project's plan is gone
    assert row.remaining == Decimal("700000.00")
