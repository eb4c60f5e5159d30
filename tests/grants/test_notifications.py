"""E-mails of the plan cycle (R10): in the outbox with the step itself (a rolled-back step
leaves none), to the right people, in their language, with a link, never naming a partner
(R11)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from countries.models import PostRole
from countries.services import membership_set
from fund.access import ensure_roles, system_actor
from grants import services
from grants.models import FundYear, PartnerType, PlanTransition, Sensitivity
from grants.notifications import notify_plan_step
from outbox.models import Message
from tests.factories import StaffFactory, UserFactory, country
from tests.helpers import deliver_outbox, make_participant, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle():
    ensure_roles()
    actor = StaffFactory(username="cycle")
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    post = make_participant(actor, year)
    plan = make_plan(actor, post, year)
    services.partner_save(
        actor=actor,
        post=post,
        name="Naamloze Verdedigers",
        partner_type=PartnerType.LOCAL_CSO,
        country=country("KE"),
        sensitivity=Sensitivity.HIGH,
    )
    reviewer = UserFactory(username="rev", email="rev@example.org", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="beoordelaar"))
    dutch = UserFactory(username="nl-editor", email="nl@example.org")
    english = UserFactory(username="en-viewer", email="en@example.org")
    membership_set(actor=actor, user=dutch, post=post, role=PostRole.EDITOR)
    membership_set(actor=actor, user=english, post=post, role=PostRole.VIEWER, language="en")
    return {"actor": actor, "plan": plan, "post": post}


def test_a_submitted_plan_is_in_the_outbox_with_the_step_and_reaches_the_reviewers_R10(
    cycle, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.plan_submit(actor=cycle["actor"], plan=cycle["plan"])
        # Written in the step's own transaction, not after it: a broker that is down at the
        # commit cannot lose it.
        assert Message.objects.filter(to="rev@example.org").count() == 1
    assert len(callbacks) == 1  # asks a worker to deliver, once committed
    [message] = deliver_outbox()
    assert message.to == ["rev@example.org"]
    assert cycle["post"].code in message.subject
    assert "/admin/grants/annualplan/" in message.body and "/review/" in message.body
    assert "Naamloze Verdedigers" not in message.body + message.alternatives[0][0]
    assert message.extra_headers["Message-ID"] == Message.objects.get().message_id
    assert deliver_outbox() == []  # sent once


def test_a_rolled_back_step_leaves_no_e_mail_R10(cycle):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.plan_submit(actor=cycle["actor"], plan=cycle["plan"])
        raise RuntimeError("the request fails after the step")
    assert not Message.objects.exists()


def test_a_returned_plan_reaches_the_post_in_each_users_language_R10(cycle):
    services.plan_submit(actor=cycle["actor"], plan=cycle["plan"])
    deliver_outbox()
    services.plan_return(actor=cycle["actor"], plan=cycle["plan"], comment="Meer focus graag.")
    by_address = {m.to[0]: m for m in deliver_outbox()}
    assert set(by_address) == {"nl@example.org", "en@example.org"}
    assert "Meer focus graag." in by_address["nl@example.org"].body
    assert "Het jaarplan" in by_address["nl@example.org"].body
    assert "Teruggestuurd" in by_address["nl@example.org"].body
    assert "Returned for revision" in by_address["en@example.org"].body
    assert f"/api/v1/plans/{cycle['plan'].public_id}/" in by_address["en@example.org"].body


def test_steps_of_seeds_and_imports_send_nothing(cycle):
    services.plan_submit(actor=system_actor("seed"), plan=cycle["plan"])
    assert not Message.objects.exists()


def test_a_task_of_an_earlier_release_queues_each_recipient_once(cycle):
    services.plan_submit(actor=cycle["actor"], plan=cycle["plan"])
    step = PlanTransition.objects.latest("pk").pk
    assert notify_plan_step(step) == 0  # already in the outbox with the step
    assert notify_plan_step(10**9) == 0  # a withdrawn plan's step: nothing
    assert len(deliver_outbox()) == 1


def test_the_annual_reports_steps_are_announced_like_the_plans_R10(cycle):
    """A submitted report reaches the reviewers with a link to the side-by-side page; a
    returned one reaches the post's users, in their language, with the comment."""
    from priorities.models import IntendedResult

    actor, plan = cycle["actor"], cycle["plan"]
    services.plan_approve(actor=actor, plan=services.plan_submit(actor=actor, plan=plan))
    report = services.annual_report_create(
        actor=actor, post=cycle["post"], fund_year=plan.fund_year
    )
    aims = IntendedResult.objects.filter(plan_aims__plan_priority__plan=plan)
    services.annual_report_update(actor=actor, report=report, progress=dict.fromkeys(aims, "Goed."))
    deliver_outbox()
    services.annual_report_submit(actor=actor, report=report)
    [to_reviewer] = deliver_outbox()
    assert to_reviewer.to == ["rev@example.org"]
    assert "Jaarrapportage" in to_reviewer.subject
    assert f"/admin/grants/annualreport/{report.pk}/side-by-side/" in to_reviewer.body

    services.annual_report_return(actor=actor, report=report, comment="Cijfers toelichten.")
    by_address = {m.to[0]: m for m in deliver_outbox()}
    assert len(by_address) == 2
    assert "Cijfers toelichten." in by_address["nl@example.org"].body
    assert "De jaarrapportage over 2026" in by_address["nl@example.org"].body
    assert "The annual report on 2026" in by_address["en@example.org"].body
    assert f"/api/v1/annual-reports/{report.public_id}/" in by_address["en@example.org"].body
