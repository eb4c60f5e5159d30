"""The delivery task: thin over outbox.services, run on commit, every minute and at start."""

from celery import shared_task
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
    # Room for the last message begun in the batch (connect, data, quit: EMAIL_TIMEOUT
    # each); the lease (OUTBOX_LEASE_SECONDS) is longer than the hard limit (config.checks).
    soft_time_limit=services.delivery_soft_limit(),
    time_limit=services.delivery_hard_limit(),
)
def deliver() -> dict:
    """Deliver every due e-mail of the outbox; returns the count per outcome."""
    return dict(services.deliver_due())
