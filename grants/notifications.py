"""E-mails of the plan's and the annual report's cycle (R10): a submitted document to the
reviewers, a returned, approved or accepted one to the post's users, with the comment.

Written to the outbox in the transition's own transaction (delivered by a worker once it has
committed), in each recipient's language, with a link, and without partner names (R11): a
mail names the post, the year, the step and the comment, nothing else of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from fund.access import MINISTRY_GROUPS, Role, profile_of
from outbox.services import Letter, enqueue

from .cycles import ANNUAL_REPORT_CYCLE, PLAN_CYCLE, Cycle
from .models import PlanTransition, ReportTransition


@dataclass(frozen=True)
class Document:
    """How the e-mails of one document's cycle are made: its transition rows, the statuses
    that are news, where reviewers review it and where the post reads it in the API."""

    cycle: Cycle  # which statuses are news (its steps that notify), which is "submitted"
    transitions: type
    field: str  # the transition's foreign key to the document
    review_url: str  # admin URL name, with the document's pk
    api_url: str  # API URL name, with the document's public id

    @property
    def submitted(self) -> str:
        return self.cycle.submitted


DOCUMENTS = {
    "plan": Document(
        PLAN_CYCLE,
        PlanTransition,
        "plan",
        "admin:grants_annualplan_review",
        "api:plan-detail",
    ),
    "annual_report": Document(
        ANNUAL_REPORT_CYCLE,
        ReportTransition,
        "report",
        "admin:grants_annualreport_side_by_side",
        "api:annual-report-detail",
    ),
}


def announce(transition, cycle: Cycle, *, actor) -> None:
    """Put the e-mails of a step in the outbox, in the step's own transaction, if its cycle
    says the step is news: they exist exactly when the step does. Steps taken by a system
    actor (seeds, historical imports) are not news to anyone."""
    if transition.to_status not in cycle.notified or Role.SYSTEM in profile_of(actor).roles:
        return
    queue_step_mails(cycle.kind, transition)


def cause_of(kind: str, transition_id: int) -> str:
    return f"{kind}-step:{transition_id}"


def queue_step_mails(kind: str, transition) -> int:
    """One letter per recipient of the step, in their language (R10); the outbox keeps each
    recipient once per step, however often this runs."""
    letters = [
        Letter(to=address, subject=subject, body=text, html=html, language=language)
        for address, language in recipients(transition, kind)
        for subject, text, html in [message(transition, language, kind)]
    ]
    return enqueue(cause_of(kind, transition.pk), letters)


def recipients(transition, kind: str = "plan") -> list[tuple[str, str]]:
    """(address, language) of who hears of this step: reviewers of a submitted document; the
    post's own users otherwise. Active accounts with an address only."""
    document = DOCUMENTS[kind]
    if transition.to_status == document.submitted:
        reviewers = get_user_model().objects.filter(
            is_active=True, groups__name=MINISTRY_GROUPS[Role.REVIEWER]
        )
        return [(user.email, settings.LANGUAGE_CODE) for user in reviewers if user.email]
    post = getattr(transition, document.field).post
    memberships = post.memberships.select_related("user").filter(user__is_active=True)
    return [(m.user.email, m.language) for m in memberships if m.user.email]


def message(transition, language: str, kind: str = "plan") -> tuple[str, str, str]:
    """(subject, text, html) of the e-mail about a step, in the given language."""
    document = DOCUMENTS[kind]
    subject_of = getattr(transition, document.field)
    for_reviewers = transition.to_status == document.submitted
    if for_reviewers:
        path = reverse(document.review_url, args=[subject_of.pk])
    else:
        path = reverse(document.api_url, kwargs={"id": subject_of.public_id})
    with translation.override(language):
        context = {
            "document": kind,
            "post": subject_of.post,
            "year": subject_of.fund_year.year,
            "version": getattr(transition, "version", None),
            "step": transition.get_to_status_display(),
            "comment": transition.comment,
            "link": settings.FUND_SITE_URL + path,
            "for_reviewers": for_reviewers,
        }
        subject = render_to_string("grants/email/cycle_step_subject.txt", context).strip()
        text = render_to_string("grants/email/cycle_step.txt", context)
        html = render_to_string("grants/email/cycle_step.html", context)
    return subject, text, html


def _queue_again(kind: str, transition_id: int) -> int:
    document = DOCUMENTS[kind]
    with transaction.atomic():
        transition = (
            document.transitions.objects.select_related(
                f"{document.field}__post", f"{document.field}__fund_year"
            )
            .filter(pk=transition_id)
            .first()
        )
        if transition is None:  # the document was withdrawn meanwhile
            return 0
        return queue_step_mails(kind, transition)


# The tasks of an earlier release, which sent the e-mails themselves: a message of theirs
# still in the queue after an upgrade puts its e-mails in the outbox (once per recipient).
@shared_task(autoretry_for=(DatabaseError,), retry_backoff=30, max_retries=10)
def notify_plan_step(transition_id: int) -> int:
    return _queue_again("plan", transition_id)


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=30, max_retries=10)
def notify_report_step(transition_id: int) -> int:
    return _queue_again("annual_report", transition_id)
