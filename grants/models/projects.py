"""Projects, their budget per calendar year and payments; what is counted (R4, R5, R6, R9)."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fund.checks import eur

from .common import money_field, non_negative
from .partners import Partner


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active (committed)")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# What is counted, defined once. R5: money of these projects counts against the allocation
# (planned or committed); a cancelled project counts nowhere. Committed: active or completed.
COUNTING_PROJECT_STATUSES = (ProjectStatus.PLANNED, ProjectStatus.ACTIVE, ProjectStatus.COMPLETED)
COMMITTED_PROJECT_STATUSES = (ProjectStatus.ACTIVE, ProjectStatus.COMPLETED)
# Still running: what a warning can still change (a completed project is history).
RUNNING_PROJECT_STATUSES = (ProjectStatus.PLANNED, ProjectStatus.ACTIVE)


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
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
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
            # The admin's start-year filter: the first and last start dates.
            models.Index(fields=["start_date"], name="project_start_date_idx"),
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


class BudgetTotal(models.Model):
    """R4, R5: the budget lines' sum and number per post, year, priority and project status,
    kept by PostgreSQL itself: triggers on budget lines and projects (migration 0013) add
    every change, whichever way it is written (services, imports, bulk inserts), so that the
    money overview and a year's money (dashboard, weekly summary) read a few hundred sums
    instead of adding up every line (83 ms at 100 000 projects, 790 ms at 1 000 000).
    PostgreSQL only (elsewhere the table stays empty and the selectors sum the lines).
    Never written by Django."""

    post = models.ForeignKey("countries.Post", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    priority = models.ForeignKey("priorities.Priority", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=ProjectStatus.choices)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    lines = models.IntegerField(default=0)  # one line per project and year: its projects

    class Meta:
        # Filled by PostgreSQL's triggers (migration 0013); empty on other databases.
        constraints = [
            models.UniqueConstraint(
                fields=["post", "year", "priority", "status"], name="budget_total_one_per_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.post_id} {self.year} {self.priority_id} {self.status}: {eur(self.amount)}"


class Disbursement(models.Model):
    """A payment to the partner of a project (R5: within the project's budget for the year)."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
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
