"""The read log (R11): who saw confidential data, when, what and through which door.

Append-only: a record is never changed or deleted through the app (save, delete, the query
set's update and delete all refuse), and on PostgreSQL a trigger refuses UPDATE and DELETE on
the table (migration 0001); pruning past READLOG_KEEP_DAYS is the one removal, itself recorded.
A record names objects by their public ids only: never a post's or a partner's name."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    """The read log is append-only (R11)."""


class Kind(models.TextChoices):
    PARTICIPATION = "participation", _("participation of posts")
    PARTNER = "partner", _("highly sensitive partner")
    REPORT_FILE = "report_file", _("report file")
    IATI_FILE = "iati_file", _("IATI file")
    READ_LOG = "read_log", _("read log")
    PRUNED = "pruned", _("read log pruned")


class Door(models.TextChoices):
    ADMIN = "admin", _("admin page")
    EXPORT = "export", _("export download")
    IMPORT = "import", _("import preview")
    API = "api", _("API endpoint")
    FILE = "file", _("file download")
    COMMAND = "command", _("management command")
    TASK = "task", _("scheduled task")
    INSPECTION = "inspection", _("confidential inspection")


class ReadQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("the read log is append-only (R11)")

    def delete(self):
        raise AppendOnly("the read log is append-only (R11)")


class Read(models.Model):
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,  # a reader's account is deactivated, never deleted
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
        help_text=_("Empty: the system (a command or a scheduled task)."),
        db_index=False,  # the (user, at) index serves it: one index less on every insert
    )
    kind = models.CharField(_("what"), max_length=20, choices=Kind.choices)
    door = models.CharField(_("door"), max_length=10, choices=Door.choices)
    path = models.CharField(_("page or file"), max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(_("fund year"), null=True, blank=True)
    object_ids = models.JSONField(_("public ids"), default=list, blank=True)
    count = models.PositiveIntegerField(_("objects"), default=0)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)

    objects = ReadQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("confidential read")
        verbose_name_plural = _("confidential reads")
        default_permissions = ("view",)
        base_manager_name = "objects"  # Django's own lookups refuse update and delete too
        indexes = [
            models.Index(fields=["user", "at"], name="readlog_user_at"),
            models.Index(fields=["kind", "at"], name="readlog_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("the read log is append-only (R11)")
        kwargs["force_insert"] = True  # a record with another's pk is refused, not an UPDATE
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("the read log is append-only (R11)")


class Inspection(models.Model):
    """*Vertrouwelijke inzage*: a fund manager lets a named person (a member or clerk of the
    Tweede Kamer) read one fund year's list of participating posts, read-only, for a window of
    hours, through a one-time login link handed over in person. The person's account opens
    nothing else; every page carries their name and the time; each view is a read (R11)."""

    person_name = models.CharField(_("name of the person"), max_length=200)
    person_role = models.CharField(
        _("capacity"), max_length=200, help_text=_("E.g. member of the Tweede Kamer, clerk.")
    )
    fund_year = models.ForeignKey(
        "grants.FundYear", on_delete=models.PROTECT, related_name="+", verbose_name=_("fund year")
    )
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("granted by"),
    )  # fmt: skip
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inspection",
        verbose_name=_("account"),
    )  # fmt: skip
    link_digest = models.CharField(max_length=64, unique=True, editable=False)
    link_used_at = models.DateTimeField(_("link used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("revoked by"),
    )  # fmt: skip

    class Meta:
        ordering = ["-granted_at"]
        verbose_name = _("confidential inspection")
        verbose_name_plural = _("confidential inspections")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="inspection_window_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_name} — {self.fund_year}"

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.starts_at <= now < self.ends_at
