"""Annual reports, the progress per intended result, and the report's transitions (R10,
R13).
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from grants.cycles import ANNUAL_REPORT_CYCLE, AnnualReportStatus

from .common import CycleTransition
from .fund_years import FundYear


class AnnualReport(models.Model):
    """What a post's year achieved against the intended results its plan aimed at (R10, R13).

    The post writes its progress per aimed-at result; the figures beside it (reported
    indicator values, money) are computed by grants.selectors.annual_report_figures, never
    typed in."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    post = models.ForeignKey(
        "countries.Post",
        on_delete=models.PROTECT,
        related_name="annual_reports",
        verbose_name=_("post"),
    )
    fund_year = models.ForeignKey(
        FundYear,
        on_delete=models.PROTECT,
        related_name="annual_reports",
        verbose_name=_("fund year"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AnnualReportStatus.choices,
        default=AnnualReportStatus.DRAFT,
    )
    summary = models.TextField(_("summary"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-fund_year__year", "post__code"]
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        constraints = [
            models.UniqueConstraint(
                fields=["post", "fund_year"],
                name="annual_report_one_per_post_and_year_r10",
                violation_error_message=_("R10: a post has one annual report per year."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=AnnualReportStatus.values), name="annual_report_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post.code} {self.fund_year.year}"

    @property
    def is_editable(self) -> bool:
        return self.status in ANNUAL_REPORT_CYCLE.editable


class ResultProgress(models.Model):
    """R13: the post's account of its progress toward one aimed-at intended result."""

    report = models.ForeignKey(
        AnnualReport,
        on_delete=models.CASCADE,
        related_name="progress",
        verbose_name=_("annual report"),
    )
    intended_result = models.ForeignKey(
        "priorities.IntendedResult",
        on_delete=models.PROTECT,
        related_name="report_progress",
        verbose_name=_("intended result"),
    )
    text = models.TextField(_("progress"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["report", "intended_result__priority__position", "intended_result__position"]
        verbose_name = _("progress on an intended result")
        verbose_name_plural = _("progress on the intended results")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "intended_result"], name="result_progress_once_per_report_r13"
            )
        ]

    def __str__(self) -> str:
        return str(self.intended_result)


class ReportTransition(CycleTransition):
    """R10: every step of the annual report's cycle records who, when and why."""

    report = models.ForeignKey(
        AnnualReport,
        on_delete=models.CASCADE,
        related_name="transitions",
        verbose_name=_("annual report"),
    )
    from_status = models.CharField(
        _("from"), max_length=20, choices=AnnualReportStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=20, choices=AnnualReportStatus.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["report", "at", "pk"]
        verbose_name = _("annual report transition")
        verbose_name_plural = _("annual report transitions")
