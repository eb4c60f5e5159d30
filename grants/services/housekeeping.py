"""Housekeeping: rows that have served their purpose, removed on a schedule."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from grants.models import IdempotentRequest


def prune_idempotency_keys() -> int:
    """Idempotency keys past their window (API_IDEMPOTENCY_KEY_HOURS) answer nothing any more:
    a retry after it is a new request anyway."""
    expired = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_KEY_HOURS)
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=expired).delete()
    return deleted


# Where django-import-export keeps an uploaded file between its preview and its confirmation
# (IMPORT_EXPORT_TMP_STORAGE_CLASS: the file storage, so that any web process can confirm).
IMPORT_FOLDER = "django-import-export"


def prune_abandoned_imports(older_than: timedelta = timedelta(days=1)) -> int:
    """Import files whose preview was never confirmed or cancelled hold posts' and partners'
    data (R11): removed from the file storage after a day."""
    from django.core.files.storage import default_storage

    try:
        _folders, names = default_storage.listdir(IMPORT_FOLDER)
    except FileNotFoundError:
        return 0
    cutoff = timezone.now() - older_than
    removed = 0
    for name in names:
        path = f"{IMPORT_FOLDER}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)
            removed += 1
    return removed


def prune_old_history() -> int:
    """The audit history (django-simple-history) older than FUND_HISTORY_KEEP_DAYS, if set;
    0 (the default) keeps it for good: it is the ministry's record of every change."""
    from io import StringIO

    from django.core.management import call_command

    days = settings.FUND_HISTORY_KEEP_DAYS
    if not days:
        return 0
    out = StringIO()
    call_command("clean_old_history", auto=True, days=days, stdout=out, stderr=out)
    return days
