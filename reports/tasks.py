"""Celery tasks: thin wrappers over the report services (JSON arguments only)."""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from fund.access import system_actor

from . import mail, services
from .iati.services import (
    EXPORT_SOFT_TIME_LIMIT,
    EXPORT_TIME_LIMIT,
    make_export,
    monthly_period,
)
from .mail import send_report_email

# Both IATI tasks: retried on a database error, never hanging past the hard limit.
EXPORT_TASK = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 60,
    "retry_backoff_max": 900,
    "max_retries": 3,
    "soft_time_limit": EXPORT_SOFT_TIME_LIMIT,
    "time_limit": EXPORT_TIME_LIMIT,
}

__all__ = [
    "export_iati",
    "housekeeping",
    "make_report",
    "publish_monthly_iati",
    "send_report_email",
    "sweep",
]


@shared_task(
    autoretry_for=(DatabaseError,),
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=5,
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_TIME_LIMIT,
)
def make_report(kind: str, period: str | None = None) -> int:
    """Make (once) the report of a kind for a period, its e-mails with it; returns its id."""
    report, _made = services.build_report(kind, period)
    return report.pk


@shared_task(
    autoretry_for=(DatabaseError,),
    retry_backoff=30,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def sweep() -> dict:
    """Catch up (on beat every ten minutes, and at every worker's start): make each owed,
    failed or abandoned report, and queue the e-mails of a done report that has none."""
    owed = services.reports_owed()
    for kind, period in owed:
        make_report.delay(kind, period)
    mailed = [mail.mail_unmailed(report_id) for report_id in services.reports_unmailed()]
    return {"made": [f"{kind} {period}" for kind, period in owed], "mailed": len(mailed)}


@shared_task(**EXPORT_TASK)
def export_iati(year: int | None = None) -> int:
    """Write the IATI publication file (monthly, or on request in the admin); returns the
    export's id. A schema-invalid file is recorded as failed and not retried: only a fix can
    make it valid."""
    return make_export(actor=system_actor("tasks"), year=year).pk


@shared_task(**EXPORT_TASK)
def publish_monthly_iati() -> int:
    """The monthly IATI publication (on beat): one file a month, however often it fires."""
    return make_export(actor=system_actor("tasks"), period=monthly_period()).pk


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=60, max_retries=3)
def housekeeping() -> dict:
    """Daily: expired sessions, idempotency keys past their window, old sent e-mails, import
    files never confirmed, and the audit history past FUND_HISTORY_KEEP_DAYS if that is set
    (by default it is the ministry's record and kept, as are the transitions)."""
    from importlib import import_module

    from grants.services.housekeeping import (
        prune_abandoned_imports,
        prune_idempotency_keys,
        prune_old_history,
    )
    from outbox.services import prune_sent

    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    from readlog.services import prune as prune_reads

    return {
        "idempotency_keys": prune_idempotency_keys(),
        "sent_e_mails": prune_sent(),
        "abandoned_imports": prune_abandoned_imports(),
        "history_kept_days": prune_old_history(),
        "reads": prune_reads(),
    }
