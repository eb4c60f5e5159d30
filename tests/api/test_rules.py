"""The fund's rules through the API: the services' refusals, with their rule ids, as 400 (409
for a plan whose status forbids the write) — and nothing written."""

from datetime import date
from decimal import Decimal

import pytest

from grants import selectors
from grants.models import AnnualPlan, FundYear, PlanStatus, Project
from tests.factories import PartnerFactory
from tests.helpers import make_participant

from .support import assert_problem

V1 = "/api/v1"


def plan_url(world):
    return f"{V1}/plans/{world.own.plan.public_id}/"


def project_body(world, **changes):
    body = {
        "partner": str(world.own.partner.public_id),
        "priority": "women_girls",
        "title": "New project",
        "start_date": "2026-02-01",
        "end_date": "2026-11-30",
        "intended_results": ["women_girls.violence"],
        "budget": [{"year": 2026, "amount": "50000.00"}],
    }
    body.update(changes)
    return body


def test_three_priorities_are_refused_R2(api_world, api):
    three = [
        {"priority": code, "amount": "1000.00"} for code in ("women_girls", "lgbtiq", "expression")
    ]
    response = api.patch(plan_url(api_world), {"priorities": three}, HTTP_IF_MATCH="*")
    assert_problem(response, 400, "R2", "priorities")
    assert api_world.own.plan.plan_priorities.count() == 1


def test_adding_a_third_priority_is_refused_R2(api_world, api):
    add = f"{plan_url(api_world)}priorities/"
    assert api.post(add, {"priority": "lgbtiq", "amount": "1000.00"}).status_code == 200
    response = api.post(add, {"priority": "expression", "amount": "1000.00"})
    assert_problem(response, 400, "R2")
    assert api_world.own.plan.plan_priorities.count() == 2


def test_an_unknown_priority_is_refused_R3(api_world, api):
    response = api.patch(
        plan_url(api_world),
        {"priorities": [{"priority": "climate", "amount": "1.00"}]},
        HTTP_IF_MATCH="*",
    )
    assert_problem(response, 400, "R3", "priorities")


def test_a_project_on_a_priority_the_plan_does_not_have_is_refused_R4(api_world, api):
    body = project_body(api_world, priority="lgbtiq", intended_results=[])
    response = api.post(f"{V1}/projects/", body)
    assert_problem(response, 400, "R4")
    assert Project.objects.filter(title="New project").count() == 0


def test_plan_money_beyond_the_allocation_is_refused_R5(api_world, api):
    too_much = [{"priority": "women_girls", "amount": "1000000.01"}]
    response = api.patch(plan_url(api_world), {"priorities": too_much}, HTTP_IF_MATCH="*")
    assert_problem(response, 400, "R5", "priorities")


def test_project_money_beyond_the_allocation_is_refused_R5(api_world, api):
    # € 1,000,000 allocated, € 100,000 already in a project: € 900,000 left.
    body = project_body(api_world, budget=[{"year": 2026, "amount": "900000.01"}])
    assert_problem(api.post(f"{V1}/projects/", body), 400, "R5")
    body = project_body(api_world, budget=[{"year": 2026, "amount": "900000.00"}])
    assert api.post(f"{V1}/projects/", body).status_code == 201


def test_a_plan_for_a_year_the_post_is_not_selected_for_is_refused_R6(api_world, api):
    FundYear.objects.create(
        year=2027, envelope=Decimal("1000000.00"), plan_submission_deadline=date(2026, 11, 15)
    )
    response = api.post(f"{V1}/plans/", {"year": 2027})
    assert_problem(response, 400, "R6", "year")
    # A year the fund does not have at all is invalid input, not a rule breach.
    assert_problem(api.post(f"{V1}/plans/", {"year": 2031}), 400, "invalid", "year")


def test_a_year_before_the_reform_is_history_R7(api_world, api):
    year2025 = FundYear.objects.create(
        year=2025, envelope=Decimal("1000000.00"), plan_submission_deadline=date(2024, 11, 15)
    )
    make_participant(api_world.admin, year2025, post=api_world.own.post)
    response = api.post(f"{V1}/plans/", {"year": 2025})
    assert_problem(response, 400, "R7", "year")
    assert not AnnualPlan.objects.filter(post=api_world.own.post, fund_year=year2025).exists()


def test_an_end_before_the_start_is_refused_R9(api_world, api):
    body = project_body(api_world, start_date="2026-06-01", end_date="2026-05-01")
    assert_problem(api.post(f"{V1}/projects/", body), 400, "R9")


def test_a_submitted_plan_cannot_be_changed_409_R10(api_world, api):
    assert api.post(f"{plan_url(api_world)}submit/", {}).status_code == 200
    response = api.patch(plan_url(api_world), {"narrative": "late"}, HTTP_IF_MATCH="*")
    assert_problem(response, 409, "R10")
    assert_problem(api.post(f"{plan_url(api_world)}submit/", {}), 409, "R10")
    assert_problem(api.delete(plan_url(api_world), HTTP_IF_MATCH="*"), 409, "R10")
    plan = AnnualPlan.objects.get(pk=api_world.own.plan.pk)
    assert (plan.status, plan.narrative) == (PlanStatus.SUBMITTED, "")
    assert [t["to_status"] for t in api.get(plan_url(api_world)).json()["transitions"]] == [
        "draft",
        "submitted",
    ]


def test_a_second_plan_for_the_year_is_refused_R10(api_world, api):
    assert_problem(api.post(f"{V1}/plans/", {"year": 2026}), 400, "R10", "year")


def test_naming_another_posts_partner_in_a_payload_is_404_R11(api_world, api):
    body = project_body(api_world, partner=str(api_world.other.partner.public_id))
    response = api.post(f"{V1}/projects/", body)
    assert_problem(response, 404, "R11", "partner")
    assert "Partner other" not in response.content.decode()
    patch = {"partner": str(api_world.other.partner.public_id)}
    url = f"{V1}/projects/{api_world.own.project.public_id}/"
    assert_problem(api.patch(url, patch, HTTP_IF_MATCH="*"), 404, "R11", "partner")
    assert Project.objects.get(pk=api_world.own.project.pk).partner == api_world.own.partner


def test_a_partner_without_a_type_is_refused_R8(api_world, api):
    response = api.post(f"{V1}/partners/", {"name": "X", "country": "KE", "partner_type": "x"})
    assert_problem(response, 400, "invalid_choice", "partner_type")


def test_an_intended_result_of_another_priority_is_refused_R13(api_world, api):
    body = project_body(api_world, intended_results=["lgbtiq.decriminalisation"])
    assert_problem(api.post(f"{V1}/projects/", body), 400, "R13", "intended_results")
    body = project_body(api_world, intended_results=["no.such-result"])
    assert_problem(api.post(f"{V1}/projects/", body), 400, "R13", "intended_results")


def test_an_intended_result_named_twice_is_refused_R13(api_world, api):
    twice = ["women_girls.violence", "women_girls.violence"]
    body = project_body(api_world, intended_results=twice)
    assert_problem(api.post(f"{V1}/projects/", body), 400, "R13", "intended_results")
    url = f"{V1}/projects/{api_world.own.project.public_id}/"
    response = api.patch(url, {"intended_results": twice}, HTTP_IF_MATCH="*")
    assert_problem(response, 400, "R13", "intended_results")


def test_a_budget_year_given_twice_is_refused_R9(api_world, api):
    lines = [{"year": 2026, "amount": "1.00"}, {"year": 2026, "amount": "2.00"}]
    body = project_body(api_world, budget=lines)
    assert_problem(api.post(f"{V1}/projects/", body), 400, "R9", "budget")


def test_an_unknown_country_is_refused_by_the_service(api_world, api):
    body = {"name": "X", "partner_type": "local_cso", "country": "QQ"}
    assert_problem(api.post(f"{V1}/partners/", body), 400, "invalid", "country")


def test_a_value_for_a_year_the_project_does_not_run_in_is_refused_R13(api_world, api):
    url = (
        f"{V1}/projects/{api_world.own.project.public_id}/indicators/"
        f"{api_world.own.indicator.public_id}/values/"
    )
    assert_problem(api.post(url, {"year": 2028, "value": "1"}), 400, "R13")


@pytest.mark.parametrize("status", ["planned", "active"])
def test_a_project_create_and_update_round_trip(api_world, api, status):
    response = api.post(f"{V1}/projects/", project_body(api_world, status=status))
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["budget"] == [{"year": 2026, "amount": "50000.00"}]
    assert created["intended_results"] == ["women_girls.violence"]
    assert response["Location"].endswith(f"/api/v1/projects/{created['id']}/")
    project = Project.objects.get(public_id=created["id"])
    assert (project.post, project.status) == (api_world.own.post, status)
    change = {"budget": [{"year": 2026, "amount": "60000.00"}], "title": "Renamed"}
    updated = api.patch(f"{V1}/projects/{created['id']}/", change, HTTP_IF_MATCH=response["ETag"])
    assert updated.status_code == 200, updated.content
    assert updated.json()["budget"] == [{"year": 2026, "amount": "60000.00"}]
    assert updated.json()["total_budget"] == "60000.00"
    assert selectors.post_year_headroom(post=api_world.own.post, year=2026) == Decimal("840000.00")


def test_partner_reference_of_a_project_from_the_factory_is_checked(api_world, api):
    """A partner row of the post made outside the API is usable; one of no post's is not."""
    mine = PartnerFactory(post=api_world.own.post, name="Factory partner")
    body = project_body(api_world, partner=str(mine.public_id))
    assert api.post(f"{V1}/projects/", body).status_code == 201
