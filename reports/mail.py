"""The e-mails of the reports, put in the outbox in the transaction that finishes the report:
a done report to its recipients (headline and XLSX), the daily reminder to each reminded
post's users in their language (R10). Delivered by the outbox's workers, each recipient once."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from countries.models import PostMembership
from outbox.services import Attachment, Letter, enqueue

from .models import Report, ReportKind, ReportStatus

logger = logging.getLogger(__name__)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cause_of(report: Report) -> str:
    return f"report:{report.pk}"


def queue_report_mails(report: Report) -> int:
    """Put a done report's e-mails in the outbox once (call inside the transaction that
    finishes the report, with its row locked); returns how many e-mails are new."""
    if report.kind == ReportKind.REMINDER:
        # A user of two reminded documents (the plan and the annual report) gets both: the
        # outbox keeps a recipient once per cause, so each reminded document is a cause.
        added = sum(
            enqueue(f"{cause_of(report)}:{suffix}", letters)
            for suffix, letters in reminder_letters(report).items()
        )
    else:
        letters = report_letters(report)
        if not letters:
            logger.warning("report %s has no recipients (FUND_REPORT_RECIPIENTS is empty)", report)
        added = enqueue(cause_of(report), letters)
    report.emailed_at = timezone.now()
    Report.objects.filter(pk=report.pk).update(emailed_at=report.emailed_at)
    return added


def _taken_at(report: Report):
    taken = report.data.get("taken_at")
    return datetime.fromisoformat(taken) if taken else None


def report_letters(report: Report) -> list[Letter]:
    with translation.override(settings.LANGUAGE_CODE):
        context = {"report": report, "data": report.data, "taken_at": _taken_at(report)}
        subject = str(report)
        text = render_to_string("reports/email.txt", context)
        html = render_to_string("reports/email.html", context)
    attachment = Attachment(f"{report.kind}-{report.period}.xlsx", bytes(report.xlsx), XLSX_TYPE)
    return [
        Letter(
            to=address,
            subject=subject,
            body=text,
            html=html,
            language=settings.LANGUAGE_CODE,
            attachment=attachment,
        )
        for address in dict.fromkeys(settings.FUND_REPORT_RECIPIENTS)
    ]


def reminder_letters(report: Report) -> dict[str, list[Letter]]:
    """Per reminded document, one e-mail per user of its post (R10), in the user's language,
    with a link to the post's fund years in the API; nothing else of the plan (R11)."""
    rows = report.data.get("reminders", [])
    memberships = PostMembership.objects.filter(
        post__in={row["post_id"] for row in rows}, user__is_active=True
    ).select_related("user")
    by_post: dict[int, list] = {}
    for membership in memberships:
        if membership.user.email:
            by_post.setdefault(membership.post_id, []).append(membership)
    letters: dict[str, list[Letter]] = {}
    for row in rows:
        suffix = f"{row['document']}:{row['post_id']}:{row['fund_year']}"
        for membership in by_post.get(row["post_id"], []):
            with translation.override(membership.language):
                context = {**row, "link": f"{settings.FUND_SITE_URL}/api/v1/fund-years/"}
                subject = render_to_string("reports/reminder_subject.txt", context).strip()
                text = render_to_string("reports/reminder.txt", context)
            letters.setdefault(suffix, []).append(
                Letter(to=membership.user.email, subject=subject, body=text,
                       language=membership.language)
            )  # fmt: skip
    return letters


def mail_unmailed(report_id: int) -> int:
    """Queue the e-mails of a done report that has none yet (an earlier release's report,
    or one finished before its mails were written with it)."""
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.status != ReportStatus.DONE or report.emailed_at:
            return 0
        return queue_report_mails(report)


# The task of an earlier release, which sent the e-mail itself: a message of it still in the
# queue after an upgrade puts the report's e-mails in the outbox (once).
@shared_task(
    name="reports.tasks.send_report_email",
    autoretry_for=(DatabaseError,),
    retry_backoff=30,
    max_retries=10,
)
def send_report_email(report_id: int) -> int:
    return mail_unmailed(report_id)
