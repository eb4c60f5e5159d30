"""Successful saves through every service-backed admin screen: redirect, and the data is there."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from countries.models import Assessment, Participation, Post
from grants import services
from grants.models import (
    Allocation,
    AnnualPlan,
    Disbursement,
    FundYear,
    Indicator,
    Partner,
    PlanStatus,
    ProjectStatus,
)
from priorities.models import IntendedResult
from tests.admin.test_admin_refusals import errors_of, form_data, submit
from tests.factories import PostFactory, country
from tests.helpers import make_participant, make_plan, make_project, priority

pytestmark = pytest.mark.django_db


def assert_saved(response):
    assert response.status_code == 302, errors_of(response)


def test_fund_year_add_and_change(admin_client, actor):
    assert_saved(
        submit(
            admin_client,
            reverse("admin:grants_fundyear_add"),
            year="2028",
            envelope="5000000.00",
            plan_submission_deadline="2027-11-15",
            min_project_size="100000.00",
        )
    )
    fund_year = FundYear.objects.get(year=2028)
    url = reverse("admin:grants_fundyear_change", args=[fund_year.pk])
    assert_saved(submit(admin_client, url, envelope="6000000.00", year="2031"))
    fund_year.refresh_from_db()
    assert (fund_year.year, fund_year.envelope) == (2028, Decimal("6000000.00"))  # year fixed


def test_post_add(admin_client):
    assert_saved(
        submit(
            admin_client,
            reverse("admin:countries_post_add"),
            code="T-NEW",
            name="Nieuwe post",
            kind="bilateral",
            city="Nairobi",
            host_country="KE",
            countries_covered=["KE", "UG"],
        )
    )
    post = Post.objects.get(code="T-NEW")
    assert set(post.countries_covered.values_list("code", flat=True)) == {"KE", "UG"}


def test_participation_add_with_assessments_then_change_R12(admin_client, year2026):
    post = PostFactory()
    assert_saved(
        submit(
            admin_client,
            reverse("admin:countries_participation_add"),
            post=str(post.pk),
            fund_year=str(year2026.pk),
            selected="on",
            **{
                "assessments-TOTAL_FORMS": "2",
                "assessments-0-criterion": "impact",
                "assessments-0-score": "4",
                "assessments-1-criterion": "expertise",
                "assessments-1-score": "3",
            },
        )
    )
    participation = Participation.objects.get(post=post)
    assert participation.selected
    assert dict(participation.assessments.values_list("criterion", "score")) == {
        "impact": 4,
        "expertise": 3,
    }
    url = reverse("admin:countries_participation_change", args=[participation.pk])
    data = form_data(admin_client.get(url))
    row = next(k[: -len("-criterion")] for k, v in data.items() if v == "expertise")
    data[f"{row}-criterion"] = "dutch_interests"
    assert_saved(admin_client.post(url, data))
    assert set(participation.assessments.values_list("criterion", flat=True)) == {
        "impact",
        "dutch_interests",
    }
    assert Assessment.objects.count() == 2


def test_allocation_add(admin_client, actor, year2026):
    post = make_participant(actor, year2026, allocation=None)
    assert_saved(
        submit(
            admin_client,
            reverse("admin:grants_allocation_add"),
            post=str(post.pk),
            fund_year=str(year2026.pk),
            amount="250000.00",
        )
    )
    assert Allocation.objects.get(post=post).amount == Decimal("250000.00")


def test_plan_add_with_priorities_then_change_R2_R10(admin_client, actor, participant, year2026):
    assert_saved(
        submit(
            admin_client,
            reverse("admin:grants_annualplan_add"),
            post=str(participant.pk),
            fund_year=str(year2026.pk),
            narrative="Ons plan",
            **{
                "plan_priorities-TOTAL_FORMS": "2",
                "plan_priorities-0-priority": str(priority("lgbtiq").pk),
                "plan_priorities-0-amount": "300000.00",
                "plan_priorities-1-priority": str(priority("expression").pk),
                "plan_priorities-1-amount": "200000.00",
            },
        )
    )
    plan = AnnualPlan.objects.get()
    assert plan.transitions.get().actor.username == "admin"
    assert dict(plan.plan_priorities.values_list("priority__code", "amount")) == {
        "lgbtiq": Decimal("300000.00"),
        "expression": Decimal("200000.00"),
    }
    url = reverse("admin:grants_annualplan_change", args=[plan.pk])
    assert_saved(submit(admin_client, url, narrative="Bijgewerkt"))
    plan.refresh_from_db()
    assert plan.narrative == "Bijgewerkt"


def test_plan_withdraw_through_delete_R10(admin_client, actor, plan):
    url = reverse("admin:grants_annualplan_delete", args=[plan.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not AnnualPlan.objects.exists()


def test_approved_plan_cannot_be_deleted_R10(admin_client, actor, plan):
    services.plan_submit(actor=actor, plan=plan)
    services.plan_approve(actor=actor, plan=plan)
    url = reverse("admin:grants_annualplan_delete", args=[plan.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert AnnualPlan.objects.get().status == PlanStatus.APPROVED


def test_partner_add(admin_client, participant):
    assert_saved(
        submit(
            admin_client,
            reverse("admin:grants_partner_add"),
            post=str(participant.pk),
            name="Stichting Demo",
            partner_type="nhri",
            country="KE",
            sensitivity="high",
        )
    )
    assert Partner.objects.get().partner_type == "nhri"


def test_project_change_budget_and_results(admin_client, actor, plan, participant):
    project = make_project(actor, participant)
    url = reverse("admin:grants_project_change", args=[project.pk])
    data = form_data(admin_client.get(url))
    data["budget_lines-0-amount"] = "150000.00"
    data["intended_results"] = [str(IntendedResult.objects.get(code="women_girls.srhr").pk)]
    data["status"] = ProjectStatus.ACTIVE
    assert_saved(admin_client.post(url, data))
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACTIVE
    assert project.budget_lines.get().amount == Decimal("150000.00")
    assert [r.code for r in project.intended_results.all()] == ["women_girls.srhr"]


def test_disbursement_add_R5(admin_client, actor, plan, participant):
    project = make_project(actor, participant, status=ProjectStatus.ACTIVE)
    assert_saved(
        submit(
            admin_client,
            reverse("admin:grants_disbursement_add"),
            project=str(project.pk),
            date="2026-04-01",
            amount="1000.00",
        )
    )
    assert Disbursement.objects.get().amount == Decimal("1000.00")


def test_indicator_add_with_values_R13(admin_client, actor, plan, participant):
    result = IntendedResult.objects.get(code="women_girls.violence")
    project = make_project(actor, participant, intended_results=[result])
    assert_saved(
        submit(
            admin_client,
            reverse("admin:grants_indicator_add"),
            project=str(project.pk),
            intended_result=str(result.pk),
            name="Opvangplekken",
            unit="plekken",
            baseline="0",
            target="20",
            **{
                "values-TOTAL_FORMS": "1",
                "values-0-year": "2026",
                "values-0-value": "12",
            },
        )
    )
    indicator = Indicator.objects.get()
    assert list(indicator.values.values_list("year", "value")) == [(2026, Decimal("12.00"))]


def test_every_change_form_renders(admin_client, actor, plan, participant):
    project = make_project(actor, participant, status=ProjectStatus.ACTIVE)
    services.disbursement_create(actor=actor, project=project, date=date(2026, 2, 1), amount=5)
    objects = {
        "grants_annualplan": plan,
        "grants_project": project,
        "grants_fundyear": plan.fund_year,
        "grants_allocation": participant.allocations.get(),
        "countries_post": participant,
        "countries_participation": participant.participations.get(),
        "grants_partner": project.partner,
        "grants_disbursement": project.disbursements.get(),
        "countries_country": country("KE"),
        "priorities_priority": priority("lgbtiq"),
    }
    for name, obj in objects.items():
        response = admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert response.status_code == 200, name
    assert make_plan  # helpers stay importable for this module's fixtures


def test_history_is_read_only(admin_client, actor, participant, year2026):
    allocation = participant.allocations.get()
    version = allocation.history.earliest()
    url = reverse(
        "admin:grants_allocation_simple_history", args=[allocation.pk, version.history_id]
    )
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"amount": "1.00"}).status_code == 403
    allocation.refresh_from_db()
    assert allocation.amount == Decimal("1000000.00")


def test_participations_are_deselected_not_deleted_R1_R6(admin_client, participant):
    participation = participant.participations.get()
    url = reverse("admin:countries_participation_delete", args=[participation.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Participation.objects.filter(pk=participation.pk).exists()


def test_a_partner_with_projects_cannot_be_deleted(admin_client, actor, plan, participant):
    project = make_project(actor, participant)
    url = reverse("admin:grants_partner_delete", args=[project.partner.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403


def test_return_action_asks_for_a_comment_and_records_it_R10(admin_client, actor, plan):
    services.plan_submit(actor=actor, plan=plan)
    url = reverse("admin:grants_annualplan_changelist")
    ask = admin_client.post(url, {"action": "return_plans", "_selected_action": [plan.pk]})
    assert ask.status_code == 200
    assert "comment" in ask.context["form"].fields
    empty = admin_client.post(
        url, {"action": "return_plans", "_selected_action": [plan.pk], "apply": "1"}
    )
    assert empty.status_code == 200 and empty.context["form"].errors  # the why is required
    done = admin_client.post(
        url,
        {
            "action": "return_plans",
            "_selected_action": [plan.pk],
            "apply": "1",
            "comment": "Meer over de partners, graag.",
        },
    )
    assert done.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RETURNED
    assert plan.transitions.last().comment == "Meer over de partners, graag."


def test_amend_action_opens_a_new_version_R10(admin_client, actor, plan):
    services.plan_submit(actor=actor, plan=plan)
    services.plan_approve(actor=actor, plan=plan)
    admin_client.post(
        reverse("admin:grants_annualplan_changelist"),
        {
            "action": "amend_plans",
            "_selected_action": [plan.pk],
            "apply": "1",
            "comment": "Nieuwe partner.",
        },
    )
    plan.refresh_from_db()
    assert (plan.status, plan.version) == (PlanStatus.AMENDING, 2)


def test_project_without_budget_for_a_year_gets_a_warning_R9(
    admin_client, actor, plan, participant
):
    project = make_project(actor, participant, end_date=date(2027, 6, 30))
    url = reverse("admin:grants_project_change", args=[project.pk])
    response = admin_client.post(url, form_data(admin_client.get(url)), follow=True)
    warnings = [str(m) for m in response.context["messages"]]
    assert any("[R9]" in m and "2027" in m for m in warnings), warnings


def test_history_says_changes_in_words_not_codes_R10(admin_client, actor, plan):
    """Issue 20: the history of a plan shows statuses by their Dutch labels and an empty
    reason as "—", never "None" or a code such as "submitted"."""
    services.plan_submit(actor=actor, plan=plan)
    url = reverse("admin:grants_annualplan_history", args=[plan.pk])
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Ingediend ter beoordeling" in page
    assert "Concept" in page
    for raw in ("None", "submitted", "draft", ">False<", ">True<"):
        assert raw not in page, raw
    transition = plan.transitions.last()
    assert "submitted" not in str(transition) and "→" in str(transition)
