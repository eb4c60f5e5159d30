"""Writing to the outbox and delivering from it.

`enqueue` is called inside the transaction of the step or report that causes the e-mails, so
they exist exactly when the cause does: a rolled-back step leaves none, a committed one cannot
lose them to a broker that is down. `deliver_due` is run by workers (on commit, every minute
on beat, at worker start): it claims one row at a time, sends it outside any transaction and
row lock, and marks it sent only after the mail server accepted it.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from smtplib import SMTPDataError, SMTPRecipientsRefused, SMTPSenderRefused

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from fund.access import Action, ensure_allowed
from fund.text import printable

from .models import Message, MessageStatus

logger = logging.getLogger(__name__)
DELIVER_TASK = "outbox.tasks.deliver"


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class Letter:
    """One e-mail to one recipient, before it is in the outbox."""

    to: str
    subject: str
    body: str
    html: str = ""
    language: str = ""
    attachment: Attachment | None = None


def _domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.rsplit("@", 1)[-1].strip("> ") or "localhost"


def enqueue(cause: str, letters: list[Letter]) -> int:
    """Put the letters of one cause in the outbox, in the caller's transaction; each
    recipient once per cause (a cause recorded again adds nothing). Returns how many are
    new. Delivery is asked for once the transaction commits."""
    now = timezone.now()
    rows = [
        Message(
            cause=cause,
            to=letter.to,
            language=letter.language,
            # A subject is one line (a header); texts from older rows may hold what the
            # services refuse today (fund.text).
            subject=printable(" ".join(letter.subject.split()))[:300],
            body=printable(letter.body, keep_newlines=True),
            html=printable(letter.html, keep_newlines=True),
            attachment_name=letter.attachment.name if letter.attachment else "",
            attachment_type=letter.attachment.mimetype if letter.attachment else "",
            attachment=letter.attachment.content if letter.attachment else None,
            message_id=make_msgid(idstring="mrf", domain=_domain()),
            next_attempt_at=now,
        )
        for letter in letters
        if letter.to
    ]
    before = Message.objects.filter(cause=cause).count()
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    added = Message.objects.filter(cause=cause).count() - before
    if added:
        transaction.on_commit(ask_for_delivery)
    return added


def ask_for_delivery() -> None:
    """Ask a worker to deliver now. A broker that is down loses nothing: the rows wait for
    the next sweep (every minute on beat, and at every worker's start)."""
    from celery import current_app

    try:
        current_app.send_task(DELIVER_TASK, ignore_result=True, retry=False)
    except Exception:
        logger.warning("outbox: could not ask a worker to deliver; the next sweep will")


def resend(messages, *, actor) -> int:
    """Queue again (the admin's "opnieuw versturen"; fund managers only): now, with a fresh
    count of attempts; an e-mail that was sent is sent once more only on purpose, under the
    same Message-ID. Who resent what is logged."""
    ensure_allowed(actor, Action.RESEND_MAIL)
    with transaction.atomic():
        chosen = list(messages.exclude(status=MessageStatus.SENDING).values_list("pk", flat=True))
        count = Message.objects.filter(pk__in=chosen).update(
            status=MessageStatus.QUEUED,
            attempts=0,
            next_attempt_at=timezone.now(),
            queued_at=timezone.now(),  # given up on by age from now, not from its creation
            lease_until=None,
            last_error="",
        )
        if count:
            logger.info("outbox: user %s queued messages %s again", actor.pk, chosen)
            transaction.on_commit(ask_for_delivery)
    return count


# --- Delivery ---------------------------------------------------------------------------------


def in_transaction() -> bool:
    """Whether the code runs inside a transaction of its own (a test case's wrapping one
    does not count: the tests run each case in one)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off with jitter: base, 2×base, 4×base … at most the maximum."""
    base = settings.OUTBOX_RETRY_SECONDS
    seconds = min(base * 2 ** max(attempts - 1, 0), settings.OUTBOX_RETRY_MAX_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def due() -> Q:
    now = timezone.now()
    return Q(status=MessageStatus.QUEUED, next_attempt_at__lte=now) | Q(
        status=MessageStatus.SENDING, lease_until__lt=now
    )


def claim() -> Message | None:
    """Take the next due row for this worker: skip rows another worker holds, and claim by
    a conditional update, so two workers never send the same row at once."""
    with transaction.atomic():
        candidate = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(due())
            .order_by("next_attempt_at", "pk")
            .first()
        )
        if candidate is None:
            return None
        if candidate.status == MessageStatus.SENDING and given_up(candidate):
            # Its worker died (killed, out of memory, a hard time limit) on every attempt.
            Message.objects.filter(pk=candidate.pk, attempts=candidate.attempts).update(
                status=MessageStatus.DEAD, lease_until=None,
                last_error="The worker sending it was lost on the last attempt.",
            )  # fmt: skip
            return None
        lease = timezone.now() + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        taken = Message.objects.filter(
            pk=candidate.pk, status=candidate.status, attempts=candidate.attempts
        ).update(status=MessageStatus.SENDING, attempts=F("attempts") + 1, lease_until=lease)
    if not taken:
        return None
    candidate.refresh_from_db()
    return candidate


def given_up(message: Message) -> bool:
    """The last attempt: too many, or the first one too long ago (a weekend's outage is
    outlasted: OUTBOX_GIVE_UP_HOURS)."""
    too_old = message.queued_at < timezone.now() - timedelta(hours=settings.OUTBOX_GIVE_UP_HOURS)
    return message.attempts >= settings.OUTBOX_MAX_ATTEMPTS or too_old


def permanent(error: Exception) -> bool:
    """A 5xx answer: the server will not take this message, however often we try."""
    if isinstance(error, SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    if isinstance(error, SMTPSenderRefused | SMTPDataError):
        return error.smtp_code >= 500
    return False


def send(message: Message, smtp=None) -> None:
    """Hand one message to the mail server (outside any transaction: a slow server must not
    hold a row lock)."""
    if in_transaction():
        raise RuntimeError("outbox: no SMTP call inside a database transaction")
    mail = EmailMultiAlternatives(
        message.subject,
        message.body,
        to=[message.to],
        headers={"Message-ID": message.message_id},
        connection=smtp,
    )
    if message.html:
        mail.attach_alternative(message.html, "text/html")
    if message.attachment is not None:
        mail.attach(message.attachment_name, bytes(message.attachment), message.attachment_type)
    mail.send(fail_silently=False)


def _record(message: Message, **fields) -> None:
    """Record a delivery's outcome, only while this worker's claim holds (a worker whose
    lease ran out must not overwrite the next one's outcome). A connection that died
    meanwhile is opened again, until shortly before the lease ends, so that an accepted
    message is not sent a second time for want of a row update."""
    claim_of = Message.objects.filter(
        pk=message.pk, status=MessageStatus.SENDING, attempts=message.attempts
    )
    attempt = 0
    while True:
        try:
            if not claim_of.update(**fields):
                logger.warning("outbox: message %s was taken over before it was recorded",
                               message.pk)  # fmt: skip
            return
        except DatabaseError:
            wait = min(2**attempt, 10)
            if timezone.now() + timedelta(seconds=wait + 5) >= message.lease_until:
                raise  # the lease runs out: the message is retried, under its Message-ID
            logger.warning("outbox: could not record message %s, reconnecting", message.pk)
            connection.close()
            time.sleep(wait)
            attempt += 1


def deliver(message: Message, smtp=None) -> str:
    """Send one claimed message and record the outcome: sent, queued again with back-off,
    or dead (a permanent refusal, or the last attempt)."""
    if timezone.now() >= message.lease_until:  # claimed too long ago: another worker may
        return MessageStatus.QUEUED  # have it by now
    try:
        if smtp is not None and getattr(smtp, "connection", True) is None:
            # Opened here, closed after the batch: the server's answer to QUIT is no part
            # of any one message's delivery.
            smtp.open()
        send(message, smtp)
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"[:2000]
        if permanent(error) or given_up(message):
            logger.error("outbox: message %s not delivered: %s", message.pk, reason)
            _record(message, status=MessageStatus.DEAD, lease_until=None, last_error=reason)
            return MessageStatus.DEAD
        logger.warning("outbox: message %s failed (attempt %s): %s", message.pk,
                       message.attempts, reason)  # fmt: skip
        _record(
            message,
            status=MessageStatus.QUEUED,
            lease_until=None,
            last_error=reason,
            next_attempt_at=timezone.now() + retry_delay(message.attempts),
        )
        return MessageStatus.QUEUED
    _record(message, status=MessageStatus.SENT, lease_until=None, sent_at=timezone.now())
    return MessageStatus.SENT


def delivery_soft_limit() -> int:
    return settings.OUTBOX_BATCH_SECONDS + 4 * settings.EMAIL_TIMEOUT + 30


def delivery_hard_limit() -> int:
    return delivery_soft_limit() + 30


def deliver_due(*, budget_seconds: float | None = None) -> Counter:
    """Deliver every due message, one at a time, over one SMTP connection; stop when none is
    due or the time budget (under the task's soft time limit) is spent."""
    budget = settings.OUTBOX_BATCH_SECONDS if budget_seconds is None else budget_seconds
    stop_at = time.monotonic() + budget
    outcomes: Counter = Counter()
    smtp = get_connection(fail_silently=False)
    try:
        # A message may take a few EMAIL_TIMEOUTs (connect, data, quit): none is begun that
        # could not finish before the task's soft time limit (outbox.tasks).
        while time.monotonic() < stop_at:
            message = claim()
            if message is None:
                break
            outcome = deliver(message, smtp)
            outcomes[outcome] += 1
            if outcome != MessageStatus.SENT:
                # A failed connection is not reused: the next message opens a new one.
                _close_quietly(smtp)
                smtp = get_connection(fail_silently=False)
    finally:
        _close_quietly(smtp)
    return outcomes


def _close_quietly(smtp) -> None:
    try:
        smtp.close()
    except Exception:
        logger.debug("outbox: closing the SMTP connection failed", exc_info=True)


def prune_sent() -> int:
    """Sent e-mails older than OUTBOX_KEEP_DAYS (with their attachments) are removed; what
    was not delivered stays until someone has looked at it."""
    before = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    deleted, _by_model = Message.objects.filter(
        status=MessageStatus.SENT, sent_at__lt=before
    ).delete()
    return deleted
