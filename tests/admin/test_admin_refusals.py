"""The admin writes through the services: each refusal shows as a form error naming its rule."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from countries.models import Participation, PostKind
from grants import services
from grants.models import Allocation, AnnualPlan, Disbursement, Project, ProjectStatus
from tests.factories import FundYearFactory, PartnerFactory, PostFactory
from tests.helpers import make_participant, make_plan, make_project, priority

pytestmark = pytest.mark.django_db


def form_data(response) -> dict:
    """The POST a browser would send for the form in `response`, inlines included."""
    data = {}

    def put(form, name, field):
        value = form[name].value()
        if value is None or value is False:
            return
        if value is True:
            value = "on"
        if isinstance(value, list | tuple):
            value = [str(v) for v in value]
        data[form.add_prefix(name)] = value

    form = response.context["adminform"].form
    for name, field in form.fields.items():
        put(form, name, field)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for inline_form in formset.forms:
            for name, field in inline_form.fields.items():
                put(inline_form, name, field)
    return data


def submit(client, url, **changes):
    data = form_data(client.get(url))
    data.update(changes)
    return client.post(url, data)


def errors_of(response) -> str:
    assert response.status_code == 200, response.status_code  # re-rendered, not saved
    adminform = response.context["adminform"]
    return " ".join(str(e) for e in adminform.form.errors.values()) + " ".join(
        str(e) for e in adminform.form.non_field_errors()
    )


@pytest.fixture
def ministry(admin_client):
    return admin_client


def test_admin_refuses_a_third_priority_R2(ministry, actor, plan):
    services.plan_priority_add(actor=actor, plan=plan, priority="lgbtiq", amount="1")
    url = reverse("admin:grants_annualplan_change", args=[plan.pk])
    data = form_data(ministry.get(url))
    data.update(
        {
            "plan_priorities-TOTAL_FORMS": "3",
            "plan_priorities-2-priority": str(priority("expression").pk),
            "plan_priorities-2-amount": "5",
        }
    )
    response = ministry.post(url, data)
    assert "[R2]" in errors_of(response)
    assert plan.plan_priorities.count() == 2


@pytest.mark.parametrize(("kind", "seats"), [(PostKind.BILATERAL, 31), (PostKind.MULTILATERAL, 5)])
def test_admin_refuses_a_participant_beyond_31_plus_5_R1(ministry, actor, year2026, kind, seats):
    for _ in range(seats):
        make_participant(actor, year2026, allocation=None, kind=kind)
    extra = PostFactory(kind=kind)
    response = submit(
        ministry,
        reverse("admin:countries_participation_add"),
        post=str(extra.pk),
        fund_year=str(year2026.pk),
        selected="on",
    )
    assert "[R1]" in errors_of(response)
    assert not Participation.objects.filter(post=extra).exists()


def test_admin_refuses_money_beyond_the_envelope_R5(ministry, actor):
    fund_year = FundYearFactory(year=2026, envelope=Decimal("100.00"))
    post = make_participant(actor, fund_year, allocation=None)
    response = submit(
        ministry,
        reverse("admin:grants_allocation_add"),
        post=str(post.pk),
        fund_year=str(fund_year.pk),
        amount="100.01",
    )
    assert "[R5]" in errors_of(response)
    assert not Allocation.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-1", "R5"), ("12.345", "2 cijfers"), ("abc", "getal")],  # Django: "Vul een getal in."
)
def test_admin_refuses_negative_or_non_decimal_money_R5(ministry, actor, year2026, amount, message):
    post = make_participant(actor, year2026, allocation=None)
    response = submit(
        ministry,
        reverse("admin:grants_allocation_add"),
        post=str(post.pk),
        fund_year=str(year2026.pk),
        amount=amount,
    )
    assert message in errors_of(response)
    assert not Allocation.objects.exists()


def test_admin_refuses_an_allocation_for_a_non_participant_R6(ministry, year2026):
    response = submit(
        ministry,
        reverse("admin:grants_allocation_add"),
        post=str(PostFactory().pk),
        fund_year=str(year2026.pk),
        amount="10",
    )
    assert "[R6]" in errors_of(response)


def test_admin_refuses_a_plan_for_a_year_the_post_is_not_in_R6(ministry, year2026):
    response = submit(
        ministry,
        reverse("admin:grants_annualplan_add"),
        post=str(PostFactory().pk),
        fund_year=str(year2026.pk),
    )
    assert "[R6]" in errors_of(response)
    assert not AnnualPlan.objects.exists()


def test_a_pre_2026_plan_is_shown_read_only_and_refuses_writes_R7(ministry, actor, year2025):
    post = make_participant(actor, year2025)
    plan = make_plan(actor, post, year2025, history_import=True)
    url = reverse("admin:grants_annualplan_change", args=[plan.pk])
    page = ministry.get(url).content.decode()
    assert "[R7]" in page  # the reason, as a warning
    assert 'name="_save"' not in page and 'name="narrative"' not in page
    response = ministry.post(url, {"narrative": "rewritten"})
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.narrative == ""


def project_form(ministry, post, **changes):
    partner = PartnerFactory(post=post)
    values = {
        "post": str(post.pk),
        "partner": str(partner.pk),
        "priority": str(priority("women_girls").pk),
        "title": "Via admin",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "status": ProjectStatus.PLANNED,
        "budget_lines-TOTAL_FORMS": "1",
        "budget_lines-0-year": "2026",
        "budget_lines-0-amount": "1000.00",
    }
    values.update(changes)
    return submit(ministry, reverse("admin:grants_project_add"), **values)


def test_admin_creates_a_project_with_its_budget(ministry, plan, participant):
    response = project_form(ministry, participant)
    assert response.status_code == 302, errors_of(response)
    project = Project.objects.get()
    assert list(project.budget_lines.values_list("year", "amount")) == [(2026, Decimal("1000.00"))]


def test_admin_refuses_a_project_on_an_unchosen_priority_R4(ministry, plan, participant):
    response = project_form(ministry, participant, priority=str(priority("lgbtiq").pk))
    assert "[R4]" in errors_of(response)
    assert not Project.objects.exists()


def test_admin_refuses_end_before_start_R9(ministry, plan, participant):
    response = project_form(ministry, participant, end_date="2025-12-31")
    assert "R9" in errors_of(response)
    assert not Project.objects.exists()


def test_admin_refuses_project_money_beyond_the_allocation_R5(ministry, plan, participant):
    response = project_form(ministry, participant, **{"budget_lines-0-amount": "1000000.01"})
    assert "[R5]" in errors_of(response)
    assert not Project.objects.exists()


def test_admin_refuses_a_disbursement_beyond_the_budget_R5(ministry, actor, plan, participant):
    project = make_project(actor, participant, status=ProjectStatus.ACTIVE)
    response = submit(
        ministry,
        reverse("admin:grants_disbursement_add"),
        project=str(project.pk),
        date="2026-05-01",
        amount="100000.01",
    )
    assert "[R5]" in errors_of(response)
    assert not Disbursement.objects.exists()


def test_admin_plan_actions_report_refusals_R10(ministry, actor, participant, year2026):
    plan = services.plan_create(actor=actor, post=participant, fund_year=year2026)
    response = ministry.post(
        reverse("admin:grants_annualplan_changelist"),
        {"action": "approve_plans", "_selected_action": [plan.pk]},
        follow=True,
    )
    assert any("[R10]" in str(m) for m in response.context["messages"])
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_admin_change_forms_render_for_every_model(ministry, actor, plan, participant):
    project = make_project(actor, participant, status=ProjectStatus.ACTIVE)
    services.disbursement_create(actor=actor, project=project, date=date(2026, 2, 1), amount=5)
    for name, obj in [
        ("grants_annualplan", plan),
        ("grants_project", project),
        ("grants_fundyear", plan.fund_year),
        ("countries_post", participant),
        ("grants_partner", project.partner),
    ]:
        response = ministry.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert response.status_code == 200, name


def test_admin_warns_before_editing_a_frozen_plan_R7_R10(ministry, actor, year2025, plan):
    history = make_plan(actor, make_participant(actor, year2025), year2025, history_import=True)
    response = ministry.get(reverse("admin:grants_annualplan_change", args=[history.pk]))
    assert any("[R7]" in str(m) for m in response.context["messages"])
    services.plan_submit(actor=actor, plan=plan)
    response = ministry.get(reverse("admin:grants_annualplan_change", args=[plan.pk]))
    assert any("[R10]" in str(m) for m in response.context["messages"])


def test_admin_refuses_an_assessment_score_out_of_range_R12(ministry, year2026):
    response = submit(
        ministry,
        reverse("admin:countries_participation_add"),
        post=str(PostFactory().pk),
        fund_year=str(year2026.pk),
        **{
            "assessments-TOTAL_FORMS": "1",
            "assessments-0-criterion": "impact",
            "assessments-0-score": "9",
        },
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "R12" in str(formset.errors)
    assert not Participation.objects.exists()


def test_admin_refuses_another_posts_partner_R11(ministry, plan, participant):
    foreign = PartnerFactory()
    response = project_form(ministry, participant, partner=str(foreign.pk))
    assert "[R11]" in errors_of(response)
    assert not Project.objects.exists()


def test_admin_refuses_an_indicator_for_a_result_the_project_does_not_serve_R13(
    ministry, actor, plan, participant
):
    from priorities.models import IntendedResult

    project = make_project(actor, participant)
    response = submit(
        ministry,
        reverse("admin:grants_indicator_add"),
        project=str(project.pk),
        intended_result=str(IntendedResult.objects.get(code="women_girls.srhr").pk),
        name="x",
        unit="y",
        baseline="0",
        target="1",
    )
    assert "[R13]" in errors_of(response)
