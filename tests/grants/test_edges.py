"""The rules at their edges: each case here got through the service layer before it was closed.

R4/R6: a project belongs to the years it has money in, or to its start year while it has no
budget line; its priority and its post's participation are kept for each of those years.
R7: nothing recorded for a year before 2026 changes outside a historical import.
R9/R13: payments and reported values stay within the project period, whatever is edited later.
"""

from datetime import date
from decimal import Decimal

import pytest

from countries import services as country_services
from countries.models import Country, Participation, Post
from grants import services
from grants.models import AnnualPlan, FundYear, Partner, PartnerType, Project, ProjectStatus
from grants.services import ChosenPriority
from priorities.models import IntendedResult, Priority
from tests.factories import FundYearFactory, PostFactory, country
from tests.helpers import make_participant, make_plan, make_project, refuses

pytestmark = pytest.mark.django_db


def priority_of(code: str) -> Priority:
    return Priority.objects.get(code=code)


def result_of(code: str) -> IntendedResult:
    return IntendedResult.objects.filter(priority__code=code).order_by("pk").first()


# --- R4 / R6: projects without budget lines ---------------------------------------------------


def test_a_priority_used_by_a_project_without_budget_cannot_be_dropped_R4(actor, plan, participant):
    make_project(actor, participant, budget={})
    with refuses("R4", field="priorities") as info:
        services.plan_priorities_set(
            actor=actor, plan=plan, items=[ChosenPriority("lgbtiq", "1000.00")]
        )
    assert "Project" in str(info.value)
    assert [pp.priority.code for pp in plan.plan_priorities.all()] == ["women_girls"]


def test_a_plan_whose_year_has_a_project_without_budget_cannot_be_withdrawn_R4_R6(
    actor, plan, participant
):
    make_project(actor, participant, budget={})
    with refuses("R4"):
        services.plan_withdraw(actor=actor, plan=plan)
    # The chain drop priority → withdraw plan → deselect post stops here: the project's post
    # keeps taking part in 2026 (R6).
    assert AnnualPlan.objects.filter(pk=plan.pk).exists()


def test_a_priority_can_be_dropped_once_its_only_project_is_cancelled_R4(actor, plan, participant):
    project = make_project(actor, participant, budget={})
    services.project_update(actor=actor, project=project, status=ProjectStatus.CANCELLED)
    services.plan_priorities_set(
        actor=actor, plan=plan, items=[ChosenPriority("lgbtiq", "1000.00")]
    )
    # …and it cannot come back to life on a priority the post no longer chose.
    with refuses("R4"):
        services.project_update(actor=actor, project=project, status=ProjectStatus.PLANNED)


def test_a_project_starting_before_2026_without_budget_needs_a_historical_import_R7(
    actor, plan, participant, year2025
):
    with refuses("R7"):
        make_project(
            actor, participant, start_date=date(2025, 6, 1), end_date=date(2026, 6, 30), budget={}
        )
    # Even as a historical import, only for a post that took part in 2025 (R6).
    with refuses("R6"):
        make_project(
            actor,
            participant,
            start_date=date(2025, 6, 1),
            end_date=date(2026, 6, 30),
            budget={},
            history_import=True,
        )
    assert not Project.objects.exists()


def test_a_candidate_that_was_not_selected_gets_no_allocation_plan_or_project_R6(actor, year2026):
    candidate = PostFactory()
    country_services.participation_set(
        actor=actor, post=candidate, fund_year=year2026, selected=False
    )
    with refuses("R6", field="post"):
        services.allocation_set(actor=actor, post=candidate, fund_year=year2026, amount="1.00")
    with refuses("R6", field="fund_year"):
        services.plan_create(actor=actor, post=candidate, fund_year=year2026)
    with refuses("R6"):
        make_project(actor, candidate, budget={2026: Decimal("0.00")})


# --- R5: completed projects keep counting --------------------------------------------------------


def test_completed_projects_keep_counting_against_the_allocation_R5(actor, plan, participant):
    project = make_project(
        actor, participant, status=ProjectStatus.ACTIVE, budget={2026: Decimal("900000.00")}
    )
    services.project_update(actor=actor, project=project, status=ProjectStatus.COMPLETED)
    with refuses("R5", field="budget"):
        make_project(actor, participant, budget={2026: Decimal("100000.01")})
    with refuses("R5", field="amount"):
        services.allocation_set(
            actor=actor, post=participant, fund_year=plan.fund_year, amount="899999.99"
        )
    # The boundary itself is allowed: exactly the allocation.
    make_project(actor, participant, budget={2026: Decimal("100000.00")})


# --- R7: history before 2026 --------------------------------------------------------------------


@pytest.fixture
def in_2025(actor, participant, year2025):
    """The participant also took part in 2025, choosing women_girls: history, imported (R7)."""
    make_participant(actor, year2025, post=participant)
    make_plan(
        actor, participant, year2025, priorities=(("women_girls", "1000"),), history_import=True
    )
    return year2025


@pytest.fixture
def history_project(actor, participant, in_2025):
    """A project of 2025, wholly before the reform, loaded by a historical import."""
    return make_project(
        actor,
        participant,
        title="History",
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
        status=ProjectStatus.COMPLETED,
        intended_results=[result_of("women_girls")],
        budget={2025: Decimal("1000.00")},
        history_import=True,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Rewritten"},
        {"description": "Rewritten"},
        {"start_date": date(2025, 2, 1)},
        {"end_date": date(2025, 11, 30)},
        {"status": ProjectStatus.CANCELLED},
        {"intended_results": []},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_project_wholly_before_2026_is_read_only_R7(actor, history_project, change):
    with refuses("R7"):
        services.project_update(actor=actor, project=history_project, **change)
    history_project.refresh_from_db()
    assert history_project.title == "History"
    assert history_project.intended_results.count() == 1


def test_indicators_of_a_project_before_2026_are_history_R7(actor, history_project):
    with refuses("R7"):
        services.indicator_save(
            actor=actor,
            project=history_project,
            intended_result=result_of("women_girls"),
            name="Late indicator",
            unit="people",
            baseline=0,
            target=10,
        )
    # A historical import can still record them.
    indicator = services.indicator_save(
        actor=actor,
        project=history_project,
        intended_result=result_of("women_girls"),
        name="Imported indicator",
        unit="people",
        baseline=0,
        target=10,
        history_import=True,
    )
    with refuses("R7"):
        services.indicator_value_set(actor=actor, indicator=indicator, year=2025, value=5)


def test_a_project_running_into_2026_keeps_its_2025_start_and_values_R7(
    actor, plan, participant, in_2025
):
    project = make_project(
        actor,
        participant,
        start_date=date(2025, 7, 1),
        end_date=date(2026, 12, 31),
        intended_results=[result_of("women_girls")],
        budget={2025: Decimal("1000.00"), 2026: Decimal("1000.00")},
        history_import=True,
    )
    with refuses("R7", field="start_date"):
        services.project_update(actor=actor, project=project, start_date=date(2025, 9, 1))
    with refuses("R7", field="end_date"):
        services.project_update(actor=actor, project=project, end_date=date(2025, 12, 31))
    # Its reformed part stays editable.
    services.project_update(
        actor=actor, project=project, title="Continued", end_date=date(2027, 1, 1)
    )
    indicator = services.indicator_save(
        actor=actor,
        project=project,
        intended_result=result_of("women_girls"),
        name="Reached",
        unit="people",
        baseline=0,
        target=10,
    )
    services.indicator_value_set(actor=actor, indicator=indicator, year=2026, value=3)
    with refuses("R7", field="year"):
        services.indicator_value_set(actor=actor, indicator=indicator, year=2025, value=3)


def test_ministry_records_of_2025_are_history_R7(actor, participant, year2025):
    with refuses("R7"):
        country_services.participation_set(
            actor=actor, post=participant, fund_year=year2025, selected=True
        )
    participation = country_services.participation_set(
        actor=actor, post=participant, fund_year=year2025, selected=True, history_import=True
    )
    with refuses("R7"):
        services.allocation_set(actor=actor, post=participant, fund_year=year2025, amount="1.00")
    with refuses("R7"):
        country_services.assessment_set(
            actor=actor, participation=participation, criterion="impact", score=3
        )
    year2025.envelope = Decimal("1.00")
    with refuses("R7", field="year"):
        services.fund_year_save(actor=actor, fund_year=year2025)


# --- R9 / R13: payments and values stay within the period ---------------------------------------


def test_a_projects_start_cannot_move_past_its_first_payment_R9(actor, plan, participant):
    project = make_project(actor, participant, status=ProjectStatus.ACTIVE)
    services.disbursement_create(
        actor=actor, project=project, date=date(2026, 3, 1), amount="1000.00"
    )
    with refuses("R9", field="start_date"):
        services.project_update(actor=actor, project=project, start_date=date(2026, 3, 2))
    with refuses("R9", field="end_date"):
        services.project_update(actor=actor, project=project, end_date=date(2026, 2, 28))
    services.project_update(actor=actor, project=project, start_date=date(2026, 3, 1))


def test_a_projects_end_cannot_move_before_a_reported_values_year_R13(actor, plan, participant):
    year2027 = FundYearFactory(year=2027)
    make_participant(actor, year2027, post=participant)
    make_plan(actor, participant, year2027)
    project = make_project(
        actor,
        participant,
        end_date=date(2027, 6, 30),
        intended_results=[result_of("women_girls")],
        budget={2026: Decimal("1000.00")},
    )
    indicator = services.indicator_save(
        actor=actor,
        project=project,
        intended_result=result_of("women_girls"),
        name="Reached",
        unit="people",
        baseline=0,
        target=10,
    )
    services.indicator_value_set(actor=actor, indicator=indicator, year=2027, value=4)
    with refuses("R13", field="end_date"):
        services.project_update(actor=actor, project=project, end_date=date(2026, 12, 31))
    project.refresh_from_db()
    assert project.end_date == date(2027, 6, 30)


@pytest.mark.parametrize("year", [2026.9, "2026.9", True, Decimal("2026"), "twenty", None, 99999])
def test_budget_years_are_whole_years_R9(actor, plan, participant, year):
    with refuses("R9", field="budget"):
        make_project(actor, participant, budget={year: Decimal("10.00")})
    assert not Project.objects.exists()


def test_a_budget_year_given_as_text_is_read_as_that_year_R9(actor, plan, participant):
    project = make_project(actor, participant, budget={"2026": Decimal("10.00")})
    assert list(project.budget_lines.values_list("year", flat=True)) == [2026]


def test_an_indicator_stays_with_its_project_R13(actor, plan, participant):
    first = make_project(actor, participant, intended_results=[result_of("women_girls")])
    second = make_project(actor, participant, intended_results=[result_of("women_girls")])
    indicator = services.indicator_save(
        actor=actor,
        project=first,
        intended_result=result_of("women_girls"),
        name="Reached",
        unit="people",
        baseline=0,
        target=10,
    )
    with refuses("R13", field="project"):
        services.indicator_save(
            actor=actor,
            project=second,
            indicator=indicator,
            intended_result=result_of("women_girls"),
            name="Reached",
            unit="people",
            baseline=0,
            target=10,
        )


# --- Odd input is refused as the domain error, never a crash -----------------------------------


def test_a_huge_amount_is_refused_not_a_crash_R5(actor, participant, year2026):
    with refuses("R5", field="amount"):
        services.allocation_set(
            actor=actor, post=participant, fund_year=year2026, amount=Decimal("1E+30")
        )


def test_an_unknown_plan_action_is_refused_R10(actor, plan):
    with refuses("R10", field="action"):
        services.plan_transition(actor=actor, plan=plan, action="publish")


def test_dates_given_as_text_are_refused_R9(actor, plan, participant):
    with refuses("R9", field="start_date"):
        make_project(actor, participant, start_date="2026-01-01")
    project = make_project(actor, participant, status=ProjectStatus.ACTIVE)
    with refuses("R9", field="date"):
        services.disbursement_create(actor=actor, project=project, date="2026-03-01", amount=1)


def test_a_huge_indicator_target_is_refused_R13(actor, plan, participant):
    project = make_project(actor, participant, intended_results=[result_of("women_girls")])
    with refuses("R13", field="target"):
        services.indicator_save(
            actor=actor,
            project=project,
            intended_result=result_of("women_girls"),
            name="Reached",
            unit="people",
            baseline=0,
            target=Decimal("1E+30"),
        )


def test_a_second_partner_of_the_same_name_is_refused_clearly(actor, participant):
    fields = {
        "post": participant,
        "name": "Same",
        "partner_type": PartnerType.LOCAL_CSO,
        "country": country("KE"),
    }
    services.partner_save(actor=actor, **fields)
    with refuses("invalid", field="name"):
        services.partner_save(actor=actor, **fields)
    assert Partner.objects.filter(name="Same").count() == 1


def test_an_unknown_project_field_is_refused_not_a_type_error(actor, plan, participant):
    project = make_project(actor, participant)
    with refuses("invalid", field="budget_total"):
        services.project_update(actor=actor, project=project, budget_total=5)


# --- The caller's copies are not trusted: services read what they check from the database -----


def test_a_forged_fund_year_cannot_slip_a_2025_plan_past_R7(actor, participant, year2025):
    forged = FundYear(pk=year2025.pk, year=2026, envelope=0)
    with refuses("R7", field="fund_year"):
        services.plan_create(actor=actor, post=participant, fund_year=forged)
    assert not AnnualPlan.objects.filter(fund_year=year2025).exists()


def test_an_intended_result_is_judged_by_its_stored_priority_R13(actor, plan, participant):
    other = result_of("lgbtiq")
    other.priority_id = priority_of("women_girls").pk  # changed in memory only
    with refuses("R13", field="intended_results"):
        make_project(actor, participant, intended_results=[other])


@pytest.mark.parametrize("pk", [999_999, None, "x"])
def test_an_intended_result_that_does_not_exist_is_refused_R13(actor, plan, participant, pk):
    with refuses("R13", field="intended_results"):
        make_project(actor, participant, intended_results=[IntendedResult(pk=pk)])
    assert not Project.objects.exists()


def test_a_project_starting_before_2026_is_history_even_with_money_from_2026_R7(
    actor, plan, participant
):
    with refuses("R7", field="start_date"):
        make_project(
            actor,
            participant,
            start_date=date(2025, 6, 1),
            end_date=date(2026, 12, 31),
            budget={2026: Decimal("10.00")},
        )


def test_an_indicator_with_values_before_2026_keeps_what_it_measured_R7(
    actor, plan, participant, in_2025
):
    project = make_project(
        actor,
        participant,
        start_date=date(2025, 7, 1),
        end_date=date(2026, 12, 31),
        intended_results=[result_of("women_girls")],
        budget={2025: Decimal("1000.00"), 2026: Decimal("1000.00")},
        history_import=True,
    )
    fields = {
        "project": project,
        "intended_result": result_of("women_girls"),
        "name": "Reached",
        "unit": "people",
        "baseline": 0,
        "target": 10,
    }
    indicator = services.indicator_save(actor=actor, **fields)
    services.indicator_value_set(
        actor=actor, indicator=indicator, year=2025, value=4, history_import=True
    )
    with refuses("R7", field="indicator"):
        services.indicator_save(actor=actor, indicator=indicator, **{**fields, "unit": "groups"})
    with refuses("R7", field="indicator"):
        services.indicator_delete(actor=actor, indicator=indicator)


def test_odd_objects_are_refused_as_the_domain_error(actor, participant, year2026):
    with refuses("R11", field="post"):
        country_services.post_save(actor=actor, post=Post(pk="abc", code="X", name="X"))
    with refuses("R11", field="fund_year"):
        country_services.participation_set(
            actor=actor, post=participant, fund_year=FundYear(pk="abc"), selected=True
        )
    with refuses("R11", field="participation"):
        country_services.assessment_set(
            actor=actor, participation=Participation(pk="abc"), criterion="impact", score=3
        )
    with refuses("invalid", field="countries_covered"):
        country_services.post_save(actor=actor, post=participant, countries_covered=5)
    with refuses("invalid", field="countries_covered"):
        country_services.post_save(
            actor=actor, post=participant, countries_covered=[Country(code="QQ")]
        )


def test_an_intended_result_code_with_a_nul_character_is_unknown_R13(actor, plan):
    aims = ["women_girls.violence\x00"]
    with refuses("R13", field="priorities"):
        services.plan_priorities_set(
            actor=actor, plan=plan, items=[ChosenPriority("women_girls", "1", aims)]
        )


def test_a_priority_code_with_a_nul_character_is_unknown_R3(actor, plan):
    with refuses("R3", field="priorities"):
        services.plan_priorities_set(
            actor=actor, plan=plan, items=[ChosenPriority("wo\x00men", "1")]
        )


def test_a_project_on_a_priority_that_does_not_exist_is_refused_R3(actor, participant, year2025):
    make_participant(actor, year2025, post=participant)
    with refuses("R3", field="priority"):
        make_project(
            actor,
            participant,
            start_date=date(2025, 1, 1),
            end_date=date(2025, 6, 30),
            budget={2025: Decimal("1.00")},
            history_import=True,
            priority_object=Priority(pk=9999, code="ghost"),
        )


def test_cancelling_a_project_that_started_before_2026_without_budget_is_history_R7(
    actor, plan, participant, in_2025
):
    """Without budget lines a project belongs to its start year (R4, R6): cancelling or
    reviving it rewrites 2025's record."""
    project = make_project(
        actor,
        participant,
        start_date=date(2025, 3, 1),
        end_date=date(2026, 6, 30),
        budget={},
        history_import=True,
    )
    with refuses("R7"):
        services.project_update(actor=actor, project=project, status=ProjectStatus.CANCELLED)
    project.refresh_from_db()
    assert project.status == ProjectStatus.PLANNED


def test_budgeting_a_project_that_started_before_2026_without_budget_is_history_R7(
    actor, plan, participant, in_2025
):
    """Its first budget line would move the project out of 2025, where it belongs while it
    has none."""
    project = make_project(
        actor,
        participant,
        start_date=date(2025, 3, 1),
        end_date=date(2026, 6, 30),
        budget={},
        history_import=True,
    )
    with refuses("R7"):
        services.project_update(actor=actor, project=project, budget={2026: "10.00"})
    assert not project.budget_lines.exists()
