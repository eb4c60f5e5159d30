"""The review queue and the review page (R4, R5, R9, R10)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from fund.access import ensure_roles
from grants import services
from grants.models import AnnualPlan, FundYear, PartnerType, PlanStatus, Sensitivity
from tests.factories import StaffFactory, UserFactory, country
from tests.helpers import make_participant, make_plan, priority

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted():
    ensure_roles()
    actor = StaffFactory(username="review-builder")
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    post = make_participant(actor, year, allocation=Decimal("1000000.00"))
    plan = make_plan(actor, post, year, priorities=(("women_girls", "600000.00"),))
    partner = services.partner_save(
        actor=actor,
        post=post,
        name="Geheime Partner",
        partner_type=PartnerType.LOCAL_CSO,
        country=country("KE"),
        sensitivity=Sensitivity.HIGH,
    )
    services.project_create(
        actor=actor,
        post=post,
        partner=partner,
        priority=priority("women_girls"),
        title="Klein project",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        budget={2026: Decimal("50000.00")},
    )
    services.plan_submit(actor=actor, plan=plan)
    return plan


def reviewer(client, name="reviewer"):
    user = UserFactory(username=name, is_staff=True)
    user.groups.add(Group.objects.get(name="beoordelaar"))
    client.force_login(user)
    return client


def test_the_review_page_shows_money_projects_and_warnings(client, submitted):
    page = reviewer(client).get(f"/admin/grants/annualplan/{submitted.pk}/review/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Klein project" in html
    assert "Geheime Partner" not in html  # R11: reviewers see type and country only
    assert "(R5)" in html  # € 400,000 of the allocation not divided over priorities
    i = html.find('class="warnings"')
    assert "R9)" in html, html[i : i + 600]  # a project below the € 100,000 minimum
    assert 'value="approve"' in html and 'value="return"' in html


def test_a_return_needs_a_comment_and_is_recorded_R10(client, submitted):
    client = reviewer(client)
    url = f"/admin/grants/annualplan/{submitted.pk}/review/"
    response = client.post(url, {"step": "return", "comment": ""}, follow=True)
    assert "[R10]" in response.content.decode()
    assert AnnualPlan.objects.get(pk=submitted.pk).status == PlanStatus.SUBMITTED
    client.post(url, {"step": "return", "comment": "Graag meer over de partners."})
    plan = AnnualPlan.objects.get(pk=submitted.pk)
    assert plan.status == PlanStatus.RETURNED
    assert plan.transitions.last().comment == "Graag meer over de partners."


def test_steps_the_status_does_not_allow_are_not_offered_or_taken_R10(client, submitted):
    client = reviewer(client)
    url = f"/admin/grants/annualplan/{submitted.pk}/review/"
    assert client.post(url, {"step": "approve"}).status_code == 302
    html = client.get(url).content.decode()
    assert 'value="approve"' not in html and 'value="amend"' in html
    # A step the status no longer allows is explained, and nothing changes.
    assert client.post(url, {"step": "return", "comment": "x"}).status_code == 302
    assert AnnualPlan.objects.get(pk=submitted.pk).status == PlanStatus.APPROVED


def test_a_reader_sees_the_review_page_without_decisions(client, submitted):
    user = UserFactory(username="reader", is_staff=True)
    user.groups.add(Group.objects.get(name="alleen-lezen"))
    client.force_login(user)
    url = f"/admin/grants/annualplan/{submitted.pk}/review/"
    assert 'name="step"' not in client.get(url).content.decode()
    assert client.post(url, {"step": "approve"}).status_code == 403
    assert AnnualPlan.objects.get(pk=submitted.pk).status == PlanStatus.SUBMITTED


def test_the_queue_filters_overdue_plans_and_by_priority(client, submitted):
    # A second post's plan on another priority, so the priority filter has a choice.
    other = make_participant(StaffFactory(username="other-builder"), submitted.fund_year)
    make_plan(
        StaffFactory(username="other-builder-2"),
        other,
        submitted.fund_year,
        priorities=(("lgbtiq", "1000.00"),),
    )
    client = reviewer(client)
    base = "/admin/grants/annualplan/"
    assert "review/" in client.get(base).content.decode()
    overdue = client.get(base, {"overdue": "submission"}).content.decode()
    assert f"{submitted.pk}/review/" not in overdue  # submitted: not overdue for submission
    by_priority = client.get(
        base, {"plan_priorities__priority__id__exact": priority("lgbtiq").pk}
    ).content.decode()
    assert f"{submitted.pk}/review/" not in by_priority


def test_the_review_page_shows_the_aims_and_who_took_each_step_R10_R13(client, submitted):
    """Issue 20: the decision has its facts on its page — the intended results the plan aims
    at per priority, and the cycle with who, when and why — and no edit refusal."""
    from priorities.models import IntendedResult

    aims = IntendedResult.objects.filter(priority__code="women_girls").order_by("position")
    page = reviewer(client).get(
        f"/admin/grants/annualplan/{submitted.pk}/review/", HTTP_ACCEPT_LANGUAGE="nl"
    )
    html = page.content.decode()
    assert "Beoogde resultaten waarop het plan inzet (R13)" in html
    for result in aims:  # a newly chosen priority aims at all of its intended results
        assert result.text_nl in html
    cycle = html[html.find('class="cycle"') :]
    assert "review-builder" in cycle and "Ingediend ter beoordeling" in cycle
    assert "submitted" not in cycle
    refusal = services.plan_edit_refusal(AnnualPlan.objects.get(pk=submitted.pk))
    assert refusal is not None  # frozen while under review, yet not shown to the reviewer
    assert str(refusal.messages[0]) not in html
