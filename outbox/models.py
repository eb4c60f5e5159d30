"""The outbox: every e-mail the fund sends is first a row here, written in the same
transaction as the step or report that causes it, and delivered by a worker afterwards.

One row per recipient, so that a failure resends only what the mail server did not accept;
a fixed Message-ID per row, so that a resend after an unknown outcome (the worker died
between the server's "250 OK" and the row's update) is recognisable as the same message."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    DEAD = "dead", _("Not delivered")


class Message(models.Model):
    """One e-mail to one recipient."""

    cause = models.CharField(
        _("cause"),
        max_length=100,
        help_text=_("What the e-mail is about, e.g. plan-step:12 or report:7."),
    )
    to = models.EmailField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=10, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    attachment_name = models.CharField(_("attachment"), max_length=200, blank=True)
    attachment_type = models.CharField(_("attachment type"), max_length=100, blank=True)
    attachment = models.BinaryField(_("attachment content"), null=True, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_index=True)
    lease_until = models.DateTimeField(
        _("being sent until"),
        null=True,
        blank=True,
        help_text=_("A worker that dies while sending leaves the row; after this it is retried."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    queued_at = models.DateTimeField(
        _("queued at"),
        default=timezone.now,
        help_text=_("Since when it is being tried: its creation, or the last 'send again'."),
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        constraints = [
            # A cause that is recorded twice (a sweep, a retried task) still mails each
            # recipient once.
            models.UniqueConstraint(fields=["cause", "to"], name="outbox_once_per_recipient"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return self.subject
