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
