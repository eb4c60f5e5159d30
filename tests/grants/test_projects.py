"""Projects: R4 (chosen priorities), R6, R7, R8 (partners), R9 (periods, size), R11, R13."""

from datetime import date
from decimal import Decimal

import pytest

from grants import selectors, services
from grants.models import Partner, PartnerType, Project, ProjectStatus
from priorities.models import IntendedResult
from tests.factories import FundYearFactory, PartnerFactory, country
from tests.helpers import make_participant, make_plan, make_project, priority, refuses

pytestmark = pytest.mark.django_db


def test_project_on_a_priority_the_post_did_not_choose_is_refused_R4(actor, plan, participant):
    with refuses("R4", field="priority") as info:
        make_project(actor, participant, priority_code="lgbtiq")
    assert "2026" in str(info.value)
    assert not Project.objects.exists()


def test_project_needs_the_priority_in_every_year_it_has_money_R4(actor, plan, participant):
    year2027 = FundYearFactory(year=2027)
    make_participant(actor, year2027, post=participant)
    make_plan(actor, participant, year2027, priorities=(("lgbtiq", "1000"),))
    with refuses("R4") as info:
        make_project(
            actor,
            participant,
            end_date=date(2027, 12, 31),
            budget={2026: Decimal("1000"), 2027: Decimal("1000")},
        )
    assert "2027" in str(info.value)


def test_changing_a_projects_priority_is_checked_R4(actor, plan, participant):
    project = make_project(actor, participant)
    with refuses("R4"):
        services.project_update(actor=actor, project=project, priority=priority("expression"))


def test_no_project_money_in_a_year_the_post_is_not_in_the_fund_R6(actor, plan, participant):
    FundYearFactory(year=2027)
    with refuses("R6", field="budget"):
        make_project(
            actor,
            participant,
            end_date=date(2027, 6, 30),
            budget={2026: Decimal("10"), 2027: Decimal("10")},
        )


def test_end_before_start_is_refused_R9(actor, plan, participant):
    with refuses("R9", field="end_date"):
        make_project(actor, participant, start_date=date(2026, 5, 1), end_date=date(2026, 4, 1))
    with refuses("R9", field="end_date"):
        make_project(actor, participant, start_date=date(2026, 5, 1), end_date=date(2026, 5, 1))


def test_budget_lines_only_for_years_the_project_runs_R9(actor, plan, participant):
    with refuses("R9", field="budget"):
        make_project(actor, participant, budget={2027: Decimal("10")})


def test_project_money_in_a_pre_reform_year_is_history_R7(actor, plan, participant):
    year2025 = FundYearFactory(year=2025)
    make_participant(actor, year2025, post=participant)
    with refuses("R7", field="start_date"):  # starting in 2025 is history already
        make_project(actor, participant, start_date=date(2025, 6, 1), budget={2025: 10})
    project = make_project(
        actor,
        participant,
        start_date=date(2025, 6, 1),
        budget={2025: Decimal("10"), 2026: Decimal("20")},
        history_import=True,
    )
    # The 2026 line can change; the 2025 line cannot (R7).
    services.project_update(actor=actor, project=project, budget={2025: "10", 2026: "30"})
    with refuses("R7"):
        services.project_update(actor=actor, project=project, budget={2025: "11", 2026: "30"})
    with refuses("R7"):
        services.project_update(actor=actor, project=project, budget={2026: "30"})


def test_another_posts_partner_is_unknown_R11(actor, plan, participant):
    foreign = PartnerFactory()
    with refuses("R11", field="partner") as info:
        make_project(actor, participant, partner=foreign)
    assert foreign.name not in str(info.value)


@pytest.mark.parametrize("partner_type", PartnerType.values)
def test_every_eligible_partner_type_is_recorded_R8(actor, participant, partner_type):
    partner = services.partner_save(
        actor=actor,
        post=participant,
        name=f"Partner {partner_type}",
        partner_type=partner_type,
        country=country("KE"),
    )
    assert partner.partner_type == partner_type


@pytest.mark.parametrize("partner_type", ["", "company", None])
def test_a_partner_needs_an_eligible_type_R8(actor, participant, partner_type):
    with refuses("R8", field="partner_type"):
        services.partner_save(
            actor=actor,
            post=participant,
            name="Acme",
            partner_type=partner_type,
            country=country("KE"),
        )


def test_intended_results_belong_to_the_projects_priority_R13(actor, plan, participant):
    other = IntendedResult.objects.get(code="lgbtiq.acceptance")
    with refuses("R13", field="intended_results"):
        make_project(actor, participant, intended_results=[other])


def test_indicators_measure_a_result_the_project_serves_R13(actor, plan, participant):
    served = IntendedResult.objects.get(code="women_girls.violence")
    project = make_project(actor, participant, intended_results=[served])
    indicator = services.indicator_save(
        actor=actor,
        project=project,
        intended_result=served,
        name="Shelters",
        unit="shelters",
        baseline=0,
        target=12,
    )
    services.indicator_value_set(actor=actor, indicator=indicator, year=2026, value="7")
    services.indicator_value_set(actor=actor, indicator=indicator, year=2026, value="8")
    assert list(indicator.values.values_list("year", "value")) == [(2026, Decimal("8"))]
    with refuses("R13", field="year"):
        services.indicator_value_set(actor=actor, indicator=indicator, year=2028, value="9")
    with refuses("R13", field="intended_result"):
        services.indicator_save(
            actor=actor,
            project=project,
            intended_result=IntendedResult.objects.get(code="women_girls.srhr"),
            name="Other",
            unit="x",
            baseline=0,
            target=1,
        )


def test_fragmentation_is_reported_against_the_years_minimum_R9(actor, plan, participant):
    year = plan.fund_year
    make_project(actor, participant, budget={2026: Decimal("99999.99")})
    make_project(actor, participant, budget={2026: Decimal("100000.00")})
    cancelled = make_project(actor, participant, budget={2026: Decimal("5.00")})
    services.project_update(actor=actor, project=cancelled, status=ProjectStatus.CANCELLED)
    report = selectors.fragmentation(year)
    assert report["projects"] == 2
    assert report["below_threshold"] == 1
    assert report["share_below_threshold_pct"] == Decimal("50.0")


def test_project_writes_keep_an_audit_trail(actor, plan, participant):
    project = make_project(actor, participant)
    services.project_update(actor=actor, project=project, title="Renamed")
    assert [h.title for h in project.history.all()] == ["Renamed", "Project"]
    assert {h.history_user for h in project.history.all()} == {actor}


def test_status_or_priority_changes_cannot_rewrite_pre_reform_money_R7(actor, plan, participant):
    year2025 = FundYearFactory(year=2025)
    make_participant(actor, year2025, post=participant, allocation=Decimal("10.00"))
    project = make_project(
        actor,
        participant,
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
        budget={2025: Decimal("10.00")},
        history_import=True,
    )
    with refuses("R7"):
        services.project_update(actor=actor, project=project, status=ProjectStatus.CANCELLED)
    with refuses("R7"):
        services.project_update(actor=actor, project=project, priority=priority("lgbtiq"))
    project.refresh_from_db()
    assert (project.status, project.priority.code) == (ProjectStatus.PLANNED, "women_girls")


def test_a_project_without_money_is_still_checked_in_its_start_year_R4_R6(actor, plan, participant):
    with refuses("R4"):
        make_project(actor, participant, priority_code="lgbtiq", budget={})
    outsider = PartnerFactory()
    with refuses("R6"):
        make_project(actor, outsider.post, partner=outsider, budget={})


def test_a_stale_partner_that_moved_to_another_post_is_unknown_R11(actor, plan, participant):
    partner = PartnerFactory(post=participant)
    stale = Partner.objects.get(pk=partner.pk)
    other_post = PartnerFactory().post
    services.partner_save(
        actor=actor,
        partner=partner,
        post=other_post,
        name=partner.name,
        partner_type=partner.partner_type,
        country=partner.country,
    )
    with refuses("R11", field="partner"):
        make_project(actor, participant, partner=stale)


def test_a_partner_with_projects_stays_with_its_post_R11(actor, plan, participant):
    project = make_project(actor, participant)
    with refuses("R11", field="post"):
        services.partner_save(
            actor=actor,
            partner=project.partner,
            post=PartnerFactory().post,
            name=project.partner.name,
            partner_type=project.partner.partner_type,
            country=project.partner.country,
        )


def test_a_result_with_indicators_stays_linked_R13(actor, plan, participant):
    served = IntendedResult.objects.get(code="women_girls.violence")
    project = make_project(actor, participant, intended_results=[served])
    services.indicator_save(
        actor=actor,
        project=project,
        intended_result=served,
        name="Shelters",
        unit="shelters",
        baseline=0,
        target=1,
    )
    with refuses("R13", field="intended_results"):
        services.project_update(actor=actor, project=project, intended_results=[])
    assert list(project.intended_results.all()) == [served]
