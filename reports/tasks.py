"""Celery tasks: thin wrappers over the report services (JSON arguments only)."""

from celery import shared_task
from django.db import DatabaseError

from fund.access import system_actor

from . import services
from .iati.services import make_export
from .mail import TRANSIENT, send_report_email

__all__ = ["export_iati", "make_report", "send_report_email"]


@shared_task(autoretry_for=TRANSIENT, retry_backoff=30, retry_backoff_max=900, max_retries=5)
def make_report(kind: str, period: str | None = None) -> int:
    """Make (once) the report of a kind for a period; returns its id."""
    report, _made = services.build_report(kind, period)
    return report.pk


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=60, retry_backoff_max=900, max_retries=3)
def export_iati(year: int | None = None) -> int:
    """Write the IATI publication file (monthly, or on request in the admin); returns the
    export's id. A schema-invalid file is recorded as failed and not retried: only a fix can
    make it valid."""
    return make_export(actor=system_actor("tasks"), year=year).pk
