"""Reads that aggregate or scope. A page built on these costs a constant number of queries."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from .models import (
    COMMITTED_PROJECT_STATUSES,
    COUNTING_PROJECT_STATUSES,
    Allocation,
    BudgetLine,
    Disbursement,
    FundYear,
    PlanPriority,
    Project,
    ProjectStatus,
)
from .rules import ZERO

MONEY = DecimalField(max_digits=16, decimal_places=2)


def _subquery_total(queryset: QuerySet, group_by: str, field: str = "amount"):
    """SUM(field) of a correlated queryset grouped by the (single) outer key, 0 when empty."""
    summed = queryset.order_by().values(group_by).annotate(total=Sum(field)).values("total")[:1]
    return Coalesce(Subquery(summed, output_field=MONEY), Value(ZERO), output_field=MONEY)


def money_overview(queryset: QuerySet[Allocation] | None = None) -> QuerySet[Allocation]:
    """Allocations with, for their post and year: in the plan, planned and committed project
    money, disbursed and remaining (allocated − planned − committed). R5."""
    queryset = queryset if queryset is not None else Allocation.objects.all()
    lines = BudgetLine.objects.filter(
        project__post=OuterRef("post"), year=OuterRef("fund_year__year")
    )
    return queryset.select_related("post", "fund_year").annotate(
        in_plan=_subquery_total(
            PlanPriority.objects.filter(
                plan__post=OuterRef("post"), plan__fund_year=OuterRef("fund_year")
            ),
            "plan__post",
        ),
        planned=_subquery_total(lines.filter(project__status=ProjectStatus.PLANNED), "year"),
        committed=_subquery_total(
            lines.filter(project__status__in=COMMITTED_PROJECT_STATUSES), "year"
        ),
        disbursed=_subquery_total(
            Disbursement.objects.filter(
                project__post=OuterRef("post"), date__year=OuterRef("fund_year__year")
            ),
            "project__post",
        ),
        remaining=ExpressionWrapper(
            F("amount") - F("planned") - F("committed"), output_field=MONEY
        ),
    )


def fund_years_with_totals(queryset: QuerySet[FundYear] | None = None) -> QuerySet[FundYear]:
    queryset = queryset if queryset is not None else FundYear.objects.all()
    return queryset.annotate(
        allocated=_subquery_total(Allocation.objects.filter(fund_year=OuterRef("pk")), "fund_year"),
        bilateral_count=Count(
            "participations",
            filter=Q(participations__selected=True, participations__post__kind="bilateral"),
        ),
        multilateral_count=Count(
            "participations",
            filter=Q(participations__selected=True, participations__post__kind="multilateral"),
        ),
    )


def projects_with_totals(queryset: QuerySet[Project] | None = None) -> QuerySet[Project]:
    queryset = queryset if queryset is not None else Project.objects.all()
    return queryset.annotate(
        total_budget=_subquery_total(BudgetLine.objects.filter(project=OuterRef("pk")), "project"),
        total_disbursed=_subquery_total(
            Disbursement.objects.filter(project=OuterRef("pk")), "project"
        ),
    )


def fragmentation(fund_year: FundYear) -> dict[str, object]:
    """R9: how many of the year's projects are smaller (in total) than the year's minimum."""
    projects = projects_with_totals(
        Project.objects.filter(
            budget_lines__year=fund_year.year, status__in=COUNTING_PROJECT_STATUSES
        ).distinct()
    )
    stats = projects.aggregate(
        total=Count("pk", distinct=True),
        small=Count("pk", distinct=True, filter=Q(total_budget__lt=fund_year.min_project_size)),
    )
    total, small = stats["total"], stats["small"]
    share = (Decimal(small) / Decimal(total) * 100).quantize(Decimal("0.1")) if total else ZERO
    return {
        "year": fund_year.year,
        "threshold": fund_year.min_project_size,
        "projects": total,
        "below_threshold": small,
        "share_below_threshold_pct": share,
    }
