"""The delivery task: thin over outbox.services, run on commit, every minute and at start."""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from . import services


@shared_task(
    name=services.DELIVER_TASK,
    ignore_result=True,
    # A database that is away is waited for; a message a dying worker held is retried after
    # its lease (services.claim).
    autoretry_for=(DatabaseError,),
    retry_backoff=10,
    retry_backoff_max=300,
    max_retries=10,
    soft_time_limit=settings.OUTBOX_BATCH_SECONDS + 30,
    time_limit=settings.OUTBOX_BATCH_SECONDS + 60,
)
def deliver() -> dict:
    """Deliver every due e-mail of the outbox; returns the count per outcome."""
    return dict(services.deliver_due())
