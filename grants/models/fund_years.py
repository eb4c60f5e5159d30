"""Fund years, allocations and the money overview (R1, R5, R7)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fund.checks import REFORM_START_YEAR, eur

from .common import money_field, non_negative


class FundYear(models.Model):
    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    envelope = money_field(_("envelope (EUR)"), help_text=_("Total decentral budget (R5)."))
    plan_submission_deadline = models.DateField(_("plan submission deadline"))
    review_deadline = models.DateField(_("review deadline"), null=True, blank=True)
    report_deadline = models.DateField(
        _("annual report deadline"),
        null=True,
        blank=True,
        help_text=_("When the posts' annual reports on this year are due (R10, R13)."),
    )
    min_project_size = money_field(
        _("minimum project size (EUR)"),
        default=Decimal(settings.FUND_DEFAULT_MIN_PROJECT_SIZE_EUR),
        help_text=_("Projects below this total are reported as fragmentation (R9)."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("fund year")
        verbose_name_plural = _("fund years")
        constraints = [
            non_negative("envelope", "fund_year_envelope_non_negative_r5"),
            non_negative("min_project_size", "fund_year_min_project_size_non_negative"),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100),
                name="fund_year_plausible",
                violation_error_message=_("The year must lie between 2000 and 2100."),
            ),
            models.CheckConstraint(
                condition=Q(review_deadline__isnull=True)
                | Q(review_deadline__gte=models.F("plan_submission_deadline")),
                name="fund_year_review_after_submission_r10",
                violation_error_message=_(
                    "R10: the review deadline cannot be before the plan submission deadline."
                ),
            ),
            models.CheckConstraint(
                condition=Q(report_deadline__isnull=True)
                | Q(report_deadline__gt=models.F("plan_submission_deadline")),
                name="fund_year_report_after_plan_r10",
                violation_error_message=_(
                    "R10: the annual report is due after the plan submission deadline."
                ),
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)

    @property
    def is_reformed(self) -> bool:
        """R7: the reformed rules apply from 2026."""
        return self.year >= REFORM_START_YEAR


class Allocation(models.Model):
    """The budget allocated to one post for one fund year (R5, R6)."""

    post = models.ForeignKey(
        "countries.Post",
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("post"),
    )
    fund_year = models.ForeignKey(
        FundYear, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("fund year")
    )
    amount = money_field(_("amount (EUR)"))
    note = models.TextField(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-fund_year__year", "post__code"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.UniqueConstraint(
                fields=["post", "fund_year"], name="allocation_one_per_post_and_year"
            ),
            non_negative("amount", "allocation_amount_non_negative_r5"),
        ]

    def __str__(self) -> str:
        return f"{self.post.code} {self.fund_year.year}: {eur(self.amount)}"


class MoneyOverview(Allocation):
    """Read-only view of allocated / planned / committed / disbursed / remaining money.

    Rows come from grants.selectors.money_overview, which annotates the sums.
    """

    class Meta:
        proxy = True
        verbose_name = _("money overview")
        verbose_name_plural = _("money overview per post and year")

    @property
    def remaining(self) -> Decimal:
        """R5: allocated minus planned and committed project money."""
        return self.amount - self.planned - self.committed
