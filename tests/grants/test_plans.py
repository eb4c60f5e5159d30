"""Annual plans: R2 (at most two), R3 (closed list), R6, R7 (history), R10 (the cycle)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from grants import services
from grants.models import AnnualPlan, PlanPriority, PlanStatus
from grants.services import ChosenPriority
from tests.factories import PostFactory
from tests.helpers import make_participant, make_plan, make_project, priority, refuses

pytestmark = pytest.mark.django_db


def test_a_third_priority_is_refused_R2(actor, plan):
    services.plan_priority_add(actor=actor, plan=plan, priority="lgbtiq", amount="100000")
    with refuses("R2", field="priorities") as info:
        services.plan_priority_add(actor=actor, plan=plan, priority="expression", amount="1")
    with translation.override("en"):
        assert "would have 3" in str(info.value)
    with translation.override("nl"):
        assert "zou er 3 hebben" in str(info.value)
    assert sorted(plan.plan_priorities.values_list("priority__code", flat=True)) == [
        "lgbtiq",
        "women_girls",
    ]


def test_three_priorities_at_once_are_refused_R2(actor, plan):
    with refuses("R2"):
        services.plan_priorities_set(
            actor=actor,
            plan=plan,
            items=[
                ChosenPriority("women_girls", "1"),
                ChosenPriority("lgbtiq", "1"),
                ChosenPriority("expression", "1"),
            ],
        )
    assert plan.plan_priorities.count() == 1  # nothing half-written


def test_the_same_priority_twice_is_refused_R2(actor, plan):
    with refuses("R2"):
        services.plan_priorities_set(
            actor=actor,
            plan=plan,
            items=[ChosenPriority("lgbtiq", "1"), ChosenPriority("lgbtiq", "2")],
        )


def test_an_unknown_priority_is_refused_R3(actor, plan):
    with refuses("R3", field="priorities") as info:
        services.plan_priority_add(actor=actor, plan=plan, priority="climate", amount="1")
    assert "climate" in str(info.value)


def test_replacing_priorities_reuses_free_slots_R2(actor, plan):
    services.plan_priorities_set(
        actor=actor,
        plan=plan,
        items=[ChosenPriority("lgbtiq", "10"), ChosenPriority("accountability", "20")],
    )
    chosen = dict(plan.plan_priorities.values_list("priority__code", "slot"))
    assert set(chosen) == {"lgbtiq", "accountability"}
    assert sorted(chosen.values()) == [1, 2]


def test_database_allows_no_third_slot_R2(plan):
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanPriority.objects.create(
            plan=plan, slot=3, priority=priority("expression"), amount=Decimal("1")
        )


def test_a_post_outside_the_fund_gets_no_plan_R6(actor, year2026):
    with refuses("R6", field="fund_year"):
        services.plan_create(actor=actor, post=PostFactory(), fund_year=year2026)
    assert not AnnualPlan.objects.exists()


def test_one_plan_per_post_and_year_R10(actor, plan, participant, year2026):
    with refuses("R10", field="fund_year"):
        services.plan_create(actor=actor, post=participant, fund_year=year2026)


def test_pre_reform_plans_are_read_only_R7(actor, year2025):
    post = make_participant(actor, year2025)
    with refuses("R7", field="fund_year"):
        services.plan_create(actor=actor, post=post, fund_year=year2025)
    history = make_plan(actor, post, year2025, history_import=True)
    with refuses("R7"):
        services.plan_update(actor=actor, plan=history, narrative="rewrite history")
    with refuses("R7"):
        services.plan_priorities_set(actor=actor, plan=history, items=[])
    with refuses("R7"):
        services.plan_submit(actor=actor, plan=history)
    history.refresh_from_db()
    assert history.narrative == ""


def test_plan_cycle_records_who_when_and_why_R10(actor, plan):
    services.plan_submit(actor=actor, plan=plan)
    services.plan_return(actor=actor, plan=plan, comment="Add the results per priority.")
    services.plan_update(actor=actor, plan=plan, narrative="Now with results.")
    services.plan_submit(actor=actor, plan=plan)
    services.plan_approve(actor=actor, plan=plan, comment="Fine.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    steps = list(plan.transitions.values_list("from_status", "to_status", "comment"))
    assert steps[0][:2] == ("", "draft")
    assert steps[1:] == [
        ("draft", "submitted", ""),
        ("submitted", "returned", "Add the results per priority."),
        ("returned", "submitted", ""),
        ("submitted", "approved", "Fine."),
    ]
    assert all(t.actor == actor and t.at for t in plan.transitions.all())


def test_an_approved_plan_is_frozen_until_amended_R10(actor, plan):
    services.plan_submit(actor=actor, plan=plan)
    services.plan_approve(actor=actor, plan=plan)
    with refuses("R10"):
        services.plan_update(actor=actor, plan=plan, narrative="quietly changed")
    with refuses("R10"):
        services.plan_priority_add(actor=actor, plan=plan, priority="lgbtiq", amount="1")
    with refuses("R10", field="comment"):
        services.plan_amend(actor=actor, plan=plan, comment=" ")
    services.plan_amend(actor=actor, plan=plan, comment="New partner in view.")
    services.plan_priority_add(actor=actor, plan=plan, priority="lgbtiq", amount="1")
    plan.refresh_from_db()
    assert (plan.status, plan.version) == (PlanStatus.AMENDING, 2)
    services.plan_submit(actor=actor, plan=plan)  # the amendment is reviewed again
    with refuses("R10", field="status"):
        services.plan_amend(actor=actor, plan=plan, comment="not yet approved")


def test_returning_needs_a_reason_R10(actor, plan):
    services.plan_submit(actor=actor, plan=plan)
    with refuses("R10", field="comment"):
        services.plan_return(actor=actor, plan=plan, comment="")


def test_a_plan_without_priorities_cannot_be_submitted_R2(actor, participant, year2026):
    plan = services.plan_create(actor=actor, post=participant, fund_year=year2026)
    with refuses("R2", field="priorities"):
        services.plan_submit(actor=actor, plan=plan)


def test_a_priority_with_projects_cannot_be_dropped_R4(actor, plan, participant):
    make_project(actor, participant, priority_code="women_girls")
    with refuses("R4", field="priorities"):
        services.plan_priorities_set(actor=actor, plan=plan, items=[ChosenPriority("lgbtiq", "1")])


def test_a_draft_plan_can_be_withdrawn_so_its_post_can_leave_R6_R10(actor, plan, participant):
    fund_year = plan.fund_year
    services.plan_withdraw(actor=actor, plan=plan)
    services.allocation_set(actor=actor, post=participant, fund_year=fund_year, amount=0)
    from countries.services import participation_set

    participation_set(actor=actor, post=participant, fund_year=fund_year, selected=False)
    assert not AnnualPlan.objects.exists()
    assert AnnualPlan.history.filter(history_type="-").count() == 1  # the audit trail stays


def test_an_approved_plan_cannot_be_withdrawn_R10(actor, plan):
    services.plan_submit(actor=actor, plan=plan)
    services.plan_approve(actor=actor, plan=plan)
    with refuses("R10"):
        services.plan_withdraw(actor=actor, plan=plan)


def test_a_plan_with_funded_projects_cannot_be_withdrawn_R4(actor, plan, participant):
    make_project(actor, participant)
    with refuses("R4"):
        services.plan_withdraw(actor=actor, plan=plan)
    assert AnnualPlan.objects.filter(pk=plan.pk).exists()
