"""Making and keeping IATI exports: the one entry point of the command, the Celery task and
the admin."""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from fund.access import Action, ensure_allowed

from ..models import IatiExport, ReportStatus
from .export import one_export_at_a_time, write_export

log = logging.getLogger(__name__)


def make_export(*, actor, year: int | None = None, period: str = "") -> IatiExport:
    """Write a validated IATI file (all projects, or those with money in `year`) and record
    it with its counts per policy outcome (R11); a failure is recorded with its reason and
    raised. Keeps every export, or the newest IATI_EXPORTS_KEPT if set.

    `period` (YYYY-MM) names the scheduled publication of a month: made once, however often
    the schedule fires (two beats, a redelivered task); a failed one is made again."""
    ensure_allowed(actor, Action.PUBLISH)  # R11: fund managers decide what is published
    # The lock covers the record too: the next export waits until this file counts as published.
    with one_export_at_a_time():
        export = None
        if period:
            export = IatiExport.objects.filter(period=period).first()
            if export is not None and not _to_make_again(export):
                return export  # done, or being made by another worker (SQLite: no lock)
        if export is None:
            try:
                with transaction.atomic():
                    export = IatiExport.objects.create(year=year, period=period)
            except IntegrityError:  # another beat's task created it first
                return IatiExport.objects.get(period=period)
        else:  # failed, or interrupted (its worker killed): made again, as new
            export.status, export.failure_reason = ReportStatus.PENDING, ""
            export.finished_at, export.created_at = None, timezone.now()
            export.save(update_fields=["status", "failure_reason", "finished_at", "created_at"])
        return _make_export(export, year)


# The export tasks' time limits (reports.tasks): an export "being made" for longer than the
# hard limit was interrupted.
EXPORT_SOFT_TIME_LIMIT = 1800
EXPORT_TIME_LIMIT = 1900
INTERRUPTED_AFTER = timedelta(seconds=EXPORT_TIME_LIMIT)


def _to_make_again(export: IatiExport) -> bool:
    """A failed export is made again; so is a pending one that nobody is making: on
    PostgreSQL the caller holds the export lock, which a running export would hold (a
    killed worker's session, and its lock, are gone); on SQLite, once it is older than the
    task's hard time limit."""
    if export.status == ReportStatus.FAILED:
        return True
    if export.status != ReportStatus.PENDING:
        return False
    if connection.vendor == "postgresql":
        return True
    return export.created_at < timezone.now() - INTERRUPTED_AFTER


def _make_export(export: IatiExport, year: int | None) -> IatiExport:
    name = f"iati-activities-{year or 'all'}-{timezone.now():%Y%m%d-%H%M%S}-{export.pk}.xml"
    try:
        # Written and checked in a scratch folder of this process, then handed to the file
        # storage (a shared folder or an object store): only a valid, checked file is stored.
        with tempfile.TemporaryDirectory(prefix="iati-") as scratch:
            counts = write_export(Path(scratch) / name, year=year, place=_store(export, name))
    except Exception as error:
        if export.file:  # stored, but its transaction failed: not published
            export.file.delete(save=False)
        export.status = ReportStatus.FAILED
        export.failure_reason = f"{type(error).__name__}: {error}"[:4000]
        export.finished_at = timezone.now()
        export.save()
        log.exception("IATI export %s failed", export.pk)
        raise
    export.size = export.file.size
    export.full, export.reduced, export.excluded, export.withheld = (
        counts["full"],
        counts["reduced"],
        counts["excluded"],
        counts["withheld"],
    )
    export.smallest_anonymity_set = counts.smallest_anonymity_set
    export.status = ReportStatus.DONE
    export.finished_at = timezone.now()
    export.save()
    prune()
    return export


def _store(export: IatiExport, name: str):
    """Put the checked file into the file storage, as the last step of the transaction that
    keeps the disclosure state (reports.iati.export): a file that could not be stored keeps
    no state; a stored file whose transaction then fails is removed again (_make_export)."""

    def place(partial: Path) -> None:
        with partial.open("rb") as written:
            export.file.save(name, File(written), save=False)

    return place


def monthly_period(moment=None) -> str:
    """The scheduled publication's month (YYYY-MM, the fund's time zone)."""
    return timezone.localtime(moment).strftime("%Y-%m")


def prune(keep: int | None = None) -> int:
    """Delete all but the newest `keep` (at least one) successful exports and their files,
    and failed ones older than the oldest kept. `IATI_EXPORTS_KEPT` 0 (the default) keeps
    every file: the attacker check reads everything the fund ever published (R11)."""
    # An export still "being made" after a day was interrupted (a worker killed mid-way).
    IatiExport.objects.filter(
        status=ReportStatus.PENDING, created_at__lt=timezone.now() - timedelta(days=1)
    ).update(status=ReportStatus.FAILED, failure_reason="interrupted", finished_at=timezone.now())
    keep = settings.IATI_EXPORTS_KEPT if keep is None else keep
    if not keep:
        return 0
    keep = max(1, keep)
    done = IatiExport.objects.filter(status=ReportStatus.DONE).order_by("-created_at", "-pk")
    old = list(done[keep:])
    kept = list(done[:keep])
    if kept:
        old += list(
            IatiExport.objects.filter(
                status=ReportStatus.FAILED, created_at__lt=kept[-1].created_at
            )
        )
    for export in old:
        if export.file:
            export.file.delete(save=False)
        export.delete()
    return len(old)
