"""The e-mails of the reports: a done report to its recipients, the daily reminder to each
reminded post's users (R10), each sent once."""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from countries.models import PostMembership

from .models import Report, ReportKind, ReportStatus

logger = logging.getLogger(__name__)
# What a retry can outlast: the database or the mail server away for a while.
TRANSIENT = (DatabaseError, SMTPException, OSError)


def queue_report_email(report_id: int) -> None:
    """Queue the e-mail of a report that was just made (called after its commit)."""
    try:
        send_report_email.delay(report_id)
    except Exception:  # the broker is down: the next run or an operator sends it
        logger.exception("could not queue the e-mail of report %s", report_id)


# The name it always had, so that queued tasks of an earlier release still find it.
@shared_task(
    name="reports.tasks.send_report_email",
    autoretry_for=TRANSIENT,
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=5,
)
def send_report_email(report_id: int) -> bool:
    return send_report(report_id)


def send_report(report_id: int) -> bool:
    """E-mail a done report once: to the configured recipients (headline and XLSX), or, for
    the daily reminder, to each reminded post's users in their language."""
    recipients = settings.FUND_REPORT_RECIPIENTS
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.status != ReportStatus.DONE or report.emailed_at:
            return False
        if report.kind == ReportKind.REMINDER:
            send_reminders(report)
            report.emailed_at = timezone.now()
            report.save(update_fields=["emailed_at"])
            return True
        if not recipients:
            return False
        with translation.override(settings.LANGUAGE_CODE):
            context = {"report": report, "data": report.data}
            subject = str(report)
            text = render_to_string("reports/email.txt", context)
            html = render_to_string("reports/email.html", context)
        mail = EmailMultiAlternatives(subject, text, to=recipients)
        mail.attach_alternative(html, "text/html")
        mail.attach(
            f"{report.kind}-{report.period}.xlsx",
            bytes(report.xlsx),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        mail.send()
        report.emailed_at = timezone.now()
        report.save(update_fields=["emailed_at"])
    return True


def send_reminders(report: Report) -> None:
    """One e-mail per post user of each reminded post (R10), in the user's language, with a
    link to the post's fund years in the API; nothing else of the plan (R11)."""
    rows = report.data.get("reminders", [])
    memberships = PostMembership.objects.filter(
        post__in={row["post_id"] for row in rows}, user__is_active=True
    ).select_related("user")
    by_post: dict[int, list] = {}
    for membership in memberships:
        if membership.user.email:
            by_post.setdefault(membership.post_id, []).append(membership)
    for row in rows:
        for membership in by_post.get(row["post_id"], []):
            with translation.override(membership.language):
                context = {**row, "link": f"{settings.FUND_SITE_URL}/api/v1/fund-years/"}
                subject = render_to_string("reports/reminder_subject.txt", context).strip()
                text = render_to_string("reports/reminder.txt", context)
            EmailMultiAlternatives(subject, text, to=[membership.user.email]).send()
