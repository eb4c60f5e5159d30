"""Fund years, allocations, annual plans, partners, projects, money and results.

Models hold data and what the database itself can guarantee (constraints). Rules that span
rows live in `grants.services`, which every writer uses.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fund.checks import REFORM_START_YEAR, eur

from .cycles import ANNUAL_REPORT_CYCLE, PLAN_CYCLE, AnnualReportStatus, PlanStatus


def money_field(verbose_name, **kwargs):
    """R5: EUR with cents, never a float."""
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def non_negative(field: str, name: str):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}),
        name=name,
        violation_error_message=_("R5: amounts cannot be negative."),
    )


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


class AnnualPlan(models.Model):
    """One plan per post and year (R10): the chosen priorities, money split, narrative."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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


class RecordedStep(models.Model):
    """Who took a step, when and why (R10, R11): what every recorded decision shares."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        abstract = True


class CycleTransition(RecordedStep):
    """R10: a step of a yearly cycle (annual plan, annual report) records who, when and why.

    Each document keeps its own table of steps (PlanTransition, ReportTransition), with its
    own statuses; this is what they share."""

    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


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


class AnnualReport(models.Model):
    """What a post's year achieved against the intended results its plan aimed at (R10, R13).

    The post writes the narratives; the figures beside them (reported indicator values, money)
    are computed by grants.selectors.annual_report_figures, never typed in."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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


class ResultNarrative(models.Model):
    """R13: the post's account of its progress toward one aimed-at intended result."""

    report = models.ForeignKey(
        AnnualReport,
        on_delete=models.CASCADE,
        related_name="narratives",
        verbose_name=_("annual report"),
    )
    intended_result = models.ForeignKey(
        "priorities.IntendedResult",
        on_delete=models.PROTECT,
        related_name="report_narratives",
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
                fields=["report", "intended_result"], name="result_narrative_once_per_report_r13"
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


class PartnerType(models.TextChoices):
    """R8: eligible implementing partners."""

    LOCAL_CSO = "local_cso", _("Local civil-society organisation")
    NHRI = "nhri", _("National human rights institution")
    STATE_INSTITUTION = "state_institution", _("Other state institution")
    INTERNATIONAL_NGO = "international_ngo", _("International NGO")
    MULTILATERAL = "multilateral", _("Multilateral organisation")


class Sensitivity(models.TextChoices):
    """R11: how carefully a partner's identity must be handled."""

    NORMAL = "normal", _("Normal")
    SENSITIVE = "sensitive", _("Sensitive")
    HIGH = "high", _("Highly sensitive (safety risk)")


class Clearance(models.TextChoices):
    """R11: where a partner stands on publication. Only the ministry (a fund manager) grants
    or refuses; a post may only ask."""

    NOT_REQUESTED = "not_requested", _("Not requested")
    REQUESTED = "requested", _("Requested by the post")
    GRANTED = "granted", _("Cleared by the ministry")
    REFUSED = "refused", _("Refused by the ministry")


# R11: the order of sensitivity; lowering it is the ministry's decision, raising anyone's.
SENSITIVITY_RANK = {Sensitivity.NORMAL: 0, Sensitivity.SENSITIVE: 1, Sensitivity.HIGH: 2}


class Partner(models.Model):
    """An implementing partner, visible only to the post that funds it (R11)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    post = models.ForeignKey(
        "countries.Post", on_delete=models.PROTECT, related_name="partners", verbose_name=_("post")
    )
    name = models.CharField(_("name"), max_length=200)
    partner_type = models.CharField(_("type"), max_length=30, choices=PartnerType.choices)
    country = models.ForeignKey(
        "countries.Country",
        on_delete=models.PROTECT,
        related_name="partners",
        verbose_name=_("country"),
    )
    sensitivity = models.CharField(
        _("sensitivity"), max_length=20, choices=Sensitivity.choices, default=Sensitivity.SENSITIVE
    )
    cleared_for_publication = models.BooleanField(
        _("cleared for publication"),
        default=False,
        help_text=_(
            "Only then may its name, its country and its projects' texts appear in published "
            "material such as the IATI export (R11): check that those texts name no one."
        ),
    )
    cleared_at = models.DateTimeField(
        _("cleared at"),
        null=True,
        blank=True,
        help_text=_("R11: texts changed after this moment are not covered by the clearance."),
    )
    clearance = models.CharField(
        _("clearance for publication"),
        max_length=20,
        choices=Clearance.choices,
        default=Clearance.NOT_REQUESTED,
        help_text=_("R11: a post asks; only a fund manager grants or refuses."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["post__code", "name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        constraints = [
            models.UniqueConstraint(fields=["post", "name"], name="partner_name_unique_per_post"),
            models.CheckConstraint(
                condition=Q(partner_type__in=PartnerType.values), name="partner_type_valid_r8"
            ),
            models.CheckConstraint(
                condition=Q(sensitivity__in=Sensitivity.values), name="partner_sensitivity_valid"
            ),
            # R11: cleared exactly when the ministry granted the clearance.
            models.CheckConstraint(
                condition=Q(cleared_for_publication=True, clearance="granted")
                | (Q(cleared_for_publication=False) & ~Q(clearance="granted")),
                name="partner_cleared_iff_granted_r11",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerDecision(RecordedStep):
    """R11: every step of a partner's publication (asked, granted, refused, sensitivity changed)
    records who, when and why, like the steps of the plan cycle."""

    class Step(models.TextChoices):
        REQUESTED = "requested", _("clearance requested")
        GRANTED = "granted", _("clearance granted")
        REFUSED = "refused", _("clearance refused")
        RESET = "reset", _("clearance lapsed or withdrawn by the post")
        SENSITIVITY = "sensitivity", _("sensitivity changed")

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("partner")
    )
    step = models.CharField(_("step"), max_length=20, choices=Step.choices)
    sensitivity_from = models.CharField(
        _("sensitivity from"), max_length=20, choices=Sensitivity.choices, blank=True
    )
    sensitivity_to = models.CharField(
        _("sensitivity to"), max_length=20, choices=Sensitivity.choices, blank=True
    )

    class Meta:
        ordering = ["partner", "at", "pk"]
        verbose_name = _("publication decision")
        verbose_name_plural = _("publication decisions")

    def __str__(self) -> str:
        return str(self.get_step_display())


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active (committed)")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# What is counted, defined once. R5: money of these projects counts against the allocation
# (planned or committed); a cancelled project counts nowhere. Committed: active or completed.
COUNTING_PROJECT_STATUSES = (ProjectStatus.PLANNED, ProjectStatus.ACTIVE, ProjectStatus.COMPLETED)
COMMITTED_PROJECT_STATUSES = (ProjectStatus.ACTIVE, ProjectStatus.COMPLETED)


class ProjectQuerySet(models.QuerySet):
    def counting(self):
        """The projects that count anywhere (R4, R5, R6, R13): all but the cancelled."""
        return self.filter(status__in=COUNTING_PROJECT_STATUSES)

    def of_year(self, year: int):
        """The projects that belong to a year (R4, R6, R13): counting projects with money in
        it and, for a project without any budget line yet, its start year."""
        return (
            self.counting()
            .filter(
                Q(budget_lines__year=year) | Q(budget_lines__isnull=True, start_date__year=year)
            )
            .distinct()
        )


class BudgetLineQuerySet(models.QuerySet):
    def counting(self):
        """R5: the budget lines whose money counts against an allocation."""
        return self.filter(project__status__in=COUNTING_PROJECT_STATUSES)


class Project(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    post = models.ForeignKey(
        "countries.Post", on_delete=models.PROTECT, related_name="projects", verbose_name=_("post")
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="projects", verbose_name=_("partner")
    )
    priority = models.ForeignKey(
        "priorities.Priority",
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name=_("priority"),
    )
    title = models.CharField(_("title"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    status = models.CharField(
        _("status"), max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED
    )
    intended_results = models.ManyToManyField(
        "priorities.IntendedResult",
        blank=True,
        related_name="projects",
        verbose_name=_("intended results"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    texts_changed_at = models.DateTimeField(
        _("texts changed at"),
        null=True,
        blank=True,
        default=timezone.now,
        editable=False,
        help_text=_(
            "R11: when the title or description last changed; a clearance given before does "
            "not cover them."
        ),
    )
    history = HistoricalRecords()

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["post__code", "start_date", "title"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")),
                name="project_end_after_start_r9",
                violation_error_message=_("R9: the end date must be after the start date."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=ProjectStatus.values), name="project_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["post", "status"], name="project_post_status_idx"),
            # The embassy API's project list: a post's projects in their default order.
            models.Index(
                fields=["post", "start_date", "title", "id"], name="project_post_listing_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class BudgetLine(models.Model):
    """A project's budget for one calendar year (R9); counts against that year's allocation."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="budget_lines", verbose_name=_("project")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    amount = money_field(_("amount (EUR)"))
    history = HistoricalRecords()

    objects = BudgetLineQuerySet.as_manager()

    class Meta:
        ordering = ["project", "year"]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "year"], name="budget_line_one_per_project_and_year"
            ),
            non_negative("amount", "budget_line_amount_non_negative_r5"),
        ]
        indexes = [models.Index(fields=["year"], name="budget_line_year_idx")]

    def __str__(self) -> str:
        return f"{self.year}: {eur(self.amount)}"


class Disbursement(models.Model):
    """A payment to the partner of a project (R5: within the project's budget for the year)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="disbursements", verbose_name=_("project")
    )
    date = models.DateField(_("date"))
    amount = money_field(_("amount (EUR)"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "date"]
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="disbursement_amount_positive_r5",
                violation_error_message=_("R5: a disbursement is a positive amount."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.date}: {eur(self.amount)}"


class Indicator(models.Model):
    """R13: how a project measures its contribution to an intended result."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("project")
    )
    intended_result = models.ForeignKey(
        "priorities.IntendedResult",
        on_delete=models.PROTECT,
        related_name="indicators",
        verbose_name=_("intended result"),
    )
    name = models.CharField(_("name"), max_length=250)
    unit = models.CharField(_("unit"), max_length=50)
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    changed_at = models.DateTimeField(
        _("name changed at"),
        null=True,
        blank=True,
        default=timezone.now,
        editable=False,
        help_text=_("R11: when the name or unit last changed (published in full only if cleared)."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "name"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="indicator_name_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"


class IndicatorValue(models.Model):
    """R13: the value reported for an indicator in one year."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="values", verbose_name=_("indicator")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    note = models.TextField(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["indicator", "year"]
        verbose_name = _("reported value")
        verbose_name_plural = _("reported values")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "year"], name="indicator_value_one_per_year_r13"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.value}"


class IdempotentRequest(models.Model):
    """A create sent with an `Idempotency-Key` and the response it got, so that a client on a
    poor connection can retry it and get the first result instead of a second object."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(
        _("request fingerprint"), max_length=64, help_text=_("SHA-256 of method, path and body.")
    )
    status_code = models.PositiveSmallIntegerField(_("status code"))
    response_body = models.JSONField(_("response body"), null=True)
    location = models.CharField(_("location"), max_length=500, blank=True)
    etag = models.CharField(_("ETag"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"
