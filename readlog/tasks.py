"""Celery tasks of the read log: thin wrappers over its services."""

from datetime import timedelta

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from . import services


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=60, max_retries=3)
def check_unusual_reads(day: str | None = None) -> int:
    """Daily (on beat): yesterday's unusual reading, e-mailed to the fund managers (R11)."""
    from datetime import date

    checked = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return services.alert_fund_managers(checked)
