"""Periodic summary reports of the fund, stored once per kind and period."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    WEEKLY = "weekly", _("Weekly fund summary")
    MONTHLY = "monthly", _("Monthly execution report")
    RESULTS = "results", _("Yearly results report (R13)")
    REMINDER = "reminder", _("Daily plan reminder to the posts (R10)")


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("Being made")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Report(models.Model):
    """One report per kind and period (exactly once: the database's unique key)."""

    kind = models.CharField(_("kind"), max_length=20, choices=ReportKind.choices)
    period = models.CharField(_("period"), max_length=20, help_text=_("2026-W48, 2026-11 or 2026."))
    fund_year = models.PositiveSmallIntegerField(_("fund year"), null=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    data = models.JSONField(_("figures"), default=dict, blank=True)
    xlsx = models.BinaryField(_("XLSX"), null=True, blank=True)
    csv = models.TextField(_("CSV"), blank=True)
    emailed_at = models.DateTimeField(
        _("e-mails queued at"),
        null=True,
        blank=True,
        help_text=_("When its e-mails were put in the outbox (see there whether they went)."),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(fields=["kind", "period"], name="report_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period}"


class IatiExport(models.Model):
    """One IATI 2.03 publication file, as written (validated) by reports.iati.export: when,
    for which year, how many activities the sensitivity policy published in full, reduced or
    left out (R11), and the file itself."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(
        _("year"), null=True, blank=True, help_text=_("Empty: every project.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    failure_reason = models.TextField(_("failure reason"), blank=True)
    full = models.PositiveIntegerField(_("published in full"), default=0)
    reduced = models.PositiveIntegerField(_("published reduced"), default=0)
    excluded = models.PositiveIntegerField(_("left out"), default=0)
    withheld = models.PositiveIntegerField(
        _("held back"),
        default=0,
        help_text=_("R11: reduced activities held back until a region stands for k posts."),
    )
    smallest_anonymity_set = models.PositiveSmallIntegerField(
        _("smallest anonymity set"),
        null=True,
        blank=True,
        help_text=_(
            "R11: the fewest participating posts any activity of a confidential participation "
            "could belong to, as the independent attacker computed it from every file "
            "published; a file under IATI_REGION_MIN_POSTS is refused."
        ),
    )
    file = models.FileField(_("file"), upload_to="iati/", blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    period = models.CharField(
        _("publication month"),
        max_length=7,
        blank=True,
        default="",
        help_text=_("The month of the scheduled publication (YYYY-MM); empty: made on request."),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("IATI export")
        verbose_name_plural = _("IATI exports")
        constraints = [
            # Two beats (or a beat fired twice) publish one file a month, not two.
            models.UniqueConstraint(
                fields=["period"], condition=~models.Q(period=""), name="one_iati_export_a_month"
            )
        ]

    def __str__(self) -> str:
        return f"IATI {self.year or _('all years')} {self.created_at:%Y-%m-%d %H:%M}"


class IatiRegionCell(models.Model):
    """R11: the region a post's reduced activities of a fund year are published under, decided
    by the first export that needed it and kept, so that no later file is more precise than an
    earlier one (reports.iati.policy). Written only by the export, after its file passed the
    attacker."""

    year = models.PositiveSmallIntegerField(_("fund year"))
    post = models.ForeignKey(
        "countries.Post", on_delete=models.PROTECT, related_name="+", verbose_name=_("post")
    )
    region = models.CharField(_("DAC region"), max_length=4)
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        ordering = ["year", "region", "post"]
        verbose_name = _("publication region of a post")
        verbose_name_plural = _("publication regions of posts")
        constraints = [
            models.UniqueConstraint(fields=["year", "post"], name="iati_cell_once_per_post_year")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.region}"


class IatiKeptActivity(models.Model):
    """R11: where and when a reduced activity was first published — its DAC region and its
    start to the quarter — kept, so that no later file contradicts an earlier one: moving the
    project into another year, or its partner into another region, would otherwise place it
    in two regions or two years' cells, and the files together would narrow it down."""

    project = models.OneToOneField(
        "grants.Project",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("project"),
    )
    start = models.DateField(_("published start"))
    region = models.CharField(_("DAC region"), max_length=4, blank=True)
    named = models.BooleanField(
        _("published in full"),
        default=False,
        help_text=_("Named once: later forms are published only while its post is public."),
    )
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("published form of an activity")
        verbose_name_plural = _("published forms of activities")

    def __str__(self) -> str:
        return f"{self.region} {self.start:%Y-%m}"
