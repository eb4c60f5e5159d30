"""Annual plans, their chosen priorities and aims, and the plan's transitions (R2, R3, R5,
R10, R13).
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fund.checks import eur
from grants.cycles import PLAN_CYCLE, PlanStatus

from .common import CycleTransition, money_field, non_negative
from .fund_years import FundYear


class AnnualPlan(models.Model):
    """One plan per post and year (R10): the chosen priorities, money split, narrative."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    post = models.ForeignKey(
        "countries.Post",
        on_delete=models.PROTECT,
        related_name="annual_plans",
        verbose_name=_("post"),
    )
    fund_year = models.ForeignKey(
        FundYear, on_delete=models.PROTECT, related_name="annual_plans", verbose_name=_("fund year")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    version = models.PositiveSmallIntegerField(
        _("version"), default=1, help_text=_("Raised by each amendment (R10).")
    )
    narrative = models.TextField(_("narrative"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-fund_year__year", "post__code"]
        verbose_name = _("annual plan")
        verbose_name_plural = _("annual plans")
        constraints = [
            models.UniqueConstraint(
                fields=["post", "fund_year"],
                name="annual_plan_one_per_post_and_year_r10",
                violation_error_message=_("R10: a post has one annual plan per year."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=PlanStatus.values), name="annual_plan_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post.code} {self.fund_year.year} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status in PLAN_CYCLE.editable


class PlanPriority(models.Model):
    """A chosen priority of a plan and the money planned for it (R2, R3, R5)."""

    plan = models.ForeignKey(
        AnnualPlan,
        on_delete=models.CASCADE,
        related_name="plan_priorities",
        verbose_name=_("annual plan"),
    )
    slot = models.PositiveSmallIntegerField(_("slot"))
    priority = models.ForeignKey(
        "priorities.Priority",
        on_delete=models.PROTECT,
        related_name="plan_priorities",
        verbose_name=_("priority"),
    )
    amount = money_field(_("planned amount (EUR)"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "slot"]
        verbose_name = _("chosen priority")
        verbose_name_plural = _("chosen priorities")
        constraints = [
            # R2 in the database: two slots, each used once, each priority once.
            models.CheckConstraint(
                condition=Q(slot__in=[1, 2]),
                name="plan_priority_at_most_two_slots_r2",
                violation_error_message=_("R2: a plan has at most two priority slots."),
            ),
            models.UniqueConstraint(fields=["plan", "slot"], name="plan_priority_slot_unique_r2"),
            models.UniqueConstraint(
                fields=["plan", "priority"],
                name="plan_priority_distinct_r2",
                violation_error_message=_("R2: a priority can be chosen only once per plan."),
            ),
            non_negative("amount", "plan_priority_amount_non_negative_r5"),
        ]

    def __str__(self) -> str:
        return f"{self.priority}: {eur(self.amount)}"


class PlanAim(models.Model):
    """R13: an intended result of a chosen priority that the post aims at this year."""

    plan_priority = models.ForeignKey(
        PlanPriority,
        on_delete=models.CASCADE,
        related_name="aims",
        verbose_name=_("chosen priority"),
    )
    intended_result = models.ForeignKey(
        "priorities.IntendedResult",
        on_delete=models.PROTECT,
        related_name="plan_aims",
        verbose_name=_("intended result"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_priority", "intended_result__position"]
        verbose_name = _("aimed-at intended result")
        verbose_name_plural = _("aimed-at intended results")
        constraints = [
            models.UniqueConstraint(
                fields=["plan_priority", "intended_result"], name="plan_aim_once_r13"
            )
        ]

    def __str__(self) -> str:
        return str(self.intended_result)


class PlanTransition(CycleTransition):
    """R10: every step of the plan cycle records who, when and why."""

    plan = models.ForeignKey(
        AnnualPlan, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("plan")
    )
    from_status = models.CharField(_("from"), max_length=20, choices=PlanStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=PlanStatus.choices)
    version = models.PositiveSmallIntegerField(_("version"))
    history = HistoricalRecords()  # keeps the trail when a draft plan is withdrawn

    class Meta:
        ordering = ["plan", "at", "pk"]
        verbose_name = _("plan transition")
        verbose_name_plural = _("plan transitions")
