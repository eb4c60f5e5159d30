"""E-mails of the plan cycle (R10): a submitted plan to the reviewers, a returned or approved
plan to the post's users, with the comment.

Sent by a Celery task once the transition has committed (never from inside the
transaction), in each recipient's language, with a link, and without partner names (R11):
a mail names the post, the year, the step and the comment, nothing else of the plan.
"""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .access import MINISTRY_GROUPS, Role, profile_of
from .models import PlanStatus, PlanTransition

logger = logging.getLogger(__name__)

NOTIFIED_STEPS = (PlanStatus.SUBMITTED, PlanStatus.RETURNED, PlanStatus.APPROVED)


def announce(transition: PlanTransition, *, actor) -> None:
    """Queue the e-mails of a step once (and only if) its transaction commits. Steps taken by
    a system actor (seeds, historical imports) are not news to anyone."""
    if transition.to_status not in NOTIFIED_STEPS or Role.SYSTEM in profile_of(actor).roles:
        return
    transition_id = transition.pk
    transaction.on_commit(lambda: _enqueue(transition_id))


def _enqueue(transition_id: int) -> None:
    try:
        notify_plan_step.delay(transition_id)
    except Exception:  # a broker that is down must not turn a committed step into a 500
        logger.exception("could not queue the e-mails of plan transition %s", transition_id)


def recipients(transition: PlanTransition) -> list[tuple[str, str]]:
    """(address, language) of who hears of this step: reviewers of a submitted plan; the
    post's own users of a returned or approved one. Active accounts with an address only."""
    if transition.to_status == PlanStatus.SUBMITTED:
        reviewers = get_user_model().objects.filter(
            is_active=True, groups__name=MINISTRY_GROUPS[Role.REVIEWER]
        )
        return [(user.email, settings.LANGUAGE_CODE) for user in reviewers if user.email]
    memberships = transition.plan.post.memberships.select_related("user").filter(
        user__is_active=True
    )
    return [(m.user.email, m.language) for m in memberships if m.user.email]


def message(transition: PlanTransition, language: str) -> tuple[str, str, str]:
    """(subject, text, html) of the e-mail about a step, in the given language."""
    plan = transition.plan
    if transition.to_status == PlanStatus.SUBMITTED:
        path = reverse("admin:grants_annualplan_review", args=[plan.pk])
    else:
        path = reverse("api:plan-detail", kwargs={"id": plan.public_id})
    with translation.override(language):
        context = {
            "post": plan.post,
            "year": plan.fund_year.year,
            "version": transition.version,
            "step": transition.get_to_status_display(),
            "comment": transition.comment,
            "link": settings.FUND_SITE_URL + path,
            "for_reviewers": transition.to_status == PlanStatus.SUBMITTED,
        }
        subject = render_to_string("grants/email/plan_step_subject.txt", context).strip()
        text = render_to_string("grants/email/plan_step.txt", context)
        html = render_to_string("grants/email/plan_step.html", context)
    return subject, text, html


@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def notify_plan_step(transition_id: int) -> int:
    """Send the e-mails of one plan step; returns how many were sent."""
    transition = (
        PlanTransition.objects.select_related("plan__post", "plan__fund_year")
        .filter(pk=transition_id)
        .first()
    )
    if transition is None:  # the plan was withdrawn meanwhile
        return 0
    sent = 0
    for address, language in recipients(transition):
        subject, text, html = message(transition, language)
        mail = EmailMultiAlternatives(subject, text, to=[address])
        mail.attach_alternative(html, "text/html")
        sent += mail.send()
    return sent
