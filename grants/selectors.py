"""Reads that aggregate or scope. A page built on these costs a constant number of queries.

Why one module of ~600 lines: the dashboard, the money overview, the plan review and the
results overview combine these reads, and each read is short; grouped by the page that uses
them, they are easier to keep at a constant number of queries together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from fund.checks import ZERO

from .cycles import (
    ANNUAL_REPORT_CYCLE,
    HANDED_IN_REPORT_STATUSES,
    PLAN_CYCLE,
    PLAN_IN_FORCE_STATUSES,
)
from .models import (
    COMMITTED_PROJECT_STATUSES,
    COUNTING_PROJECT_STATUSES,
    RUNNING_PROJECT_STATUSES,
    Allocation,
    BudgetLine,
    BudgetTotal,
    Disbursement,
    FundYear,
    MoneyOverview,
    PlanPriority,
    Project,
    ProjectStatus,
)

MONEY = DecimalField(max_digits=16, decimal_places=2)


def _subquery_total(queryset: QuerySet, group_by: str, field: str = "amount"):
    """SUM(field) of a correlated queryset grouped by the (single) outer key, 0 when empty."""
    summed = queryset.order_by().values(group_by).annotate(total=Sum(field)).values("total")[:1]
    return Coalesce(Subquery(summed, output_field=MONEY), Value(ZERO), output_field=MONEY)


def money_overview(
    allocations: Iterable[MoneyOverview] | None = None,
) -> list[MoneyOverview]:
    """Allocations with, for their post and year (R5): `in_plan` (the plan's split),
    `planned` and `committed` project money, `disbursed`, and `remaining` (a property).

    Four grouped queries for any number of rows: summing per row in correlated subqueries
    costs a scan of the post's projects per row, which is slow with thousands of projects.
    """
    if allocations is None:
        allocations = MoneyOverview.objects.select_related("post", "fund_year")
    rows = list(allocations)
    posts = {row.post_id for row in rows}
    years = {row.fund_year.year for row in rows}

    def grouped(queryset, *keys):
        sums = queryset.order_by().values(*keys).annotate(total=Sum("amount"))
        return {tuple(item[k] for k in keys): item["total"] for item in sums}

    in_plan = grouped(
        PlanPriority.objects.filter(plan__post__in=posts, plan__fund_year__year__in=years),
        "plan__post",
        "plan__fund_year__year",
    )
    if connection.vendor == "postgresql":  # the sums PostgreSQL keeps (BudgetTotal)
        lines = grouped(
            BudgetTotal.objects.filter(
                post__in=posts, year__in=years, status__in=COUNTING_PROJECT_STATUSES, lines__gt=0
            ),
            "post",
            "year",
            "status",
        )
    else:
        lines = grouped(
            BudgetLine.objects.counting().filter(project__post__in=posts, year__in=years),
            "project__post",
            "year",
            "project__status",
        )
    disbursed = grouped(
        Disbursement.objects.filter(project__post__in=posts, date__year__in=years).annotate(
            year=ExtractYear("date")
        ),
        "project__post",
        "year",
    )
    for row in rows:
        key = (row.post_id, row.fund_year.year)
        row.in_plan = in_plan.get(key, ZERO)
        row.planned = lines.get((*key, ProjectStatus.PLANNED), ZERO)
        row.committed = sum(
            (lines.get((*key, status), ZERO) for status in COMMITTED_PROJECT_STATUSES), ZERO
        )
        row.disbursed = disbursed.get(key, ZERO)
    return rows


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


def years_without_budget(project: Project) -> list[int]:
    """R9: calendar years of the project's period that have no budget line yet."""
    budgeted = set(project.budget_lines.values_list("year", flat=True))
    period = range(project.start_date.year, project.end_date.year + 1)
    return [year for year in period if year not in budgeted]


def fragmentation(fund_year: FundYear) -> dict[str, object]:
    """R9: how many of the year's projects are smaller (in total) than the year's minimum.

    One query: the per-project totals are counted inside the database (a grouped subquery
    wrapped in COUNT), never fetched; at 100 000 projects that is the difference between
    milliseconds and seconds."""
    project_totals = (
        BudgetLine.objects.counting()
        .filter(
            # At most one line per project and year, so this join does not repeat lines.
            project__budget_lines__year=fund_year.year,
        )
        .order_by()
        .values("project")
        .annotate(total=Sum("amount"))
    )
    inner_sql, params = project_totals.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COUNT(CASE WHEN totals.total < CAST(%s AS NUMERIC) THEN 1 END) "
            f"FROM ({inner_sql}) totals",
            [str(fund_year.min_project_size), *params],
        )
        total, small = cursor.fetchone()
    share = (Decimal(small) / Decimal(total) * 100).quantize(Decimal("0.1")) if total else ZERO
    return {
        "year": fund_year.year,
        "threshold": fund_year.min_project_size,
        "projects": total,
        "below_threshold": small,
        "share_below_threshold_pct": share,
    }


@dataclass
class YearMoney:
    """The year's money keyed by (post id, priority id): plan splits, planned and committed
    project money, payments, and the planned or active projects with a line in the year
    (for R4). Built by year_money."""

    in_plan: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    planned: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    committed: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    disbursed: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    projects_in_use: dict[tuple[int, int], int] = field(default_factory=dict)

    SUMS = ("in_plan", "planned", "committed", "disbursed")

    def total(self, name: str, *, post: int | None = None, priority: int | None = None):
        """The sum of one figure over every pair matching the given post and/or priority."""
        return sum(
            (
                amount
                for (post_id, priority_id), amount in getattr(self, name).items()
                if post in (None, post_id) and priority in (None, priority_id)
            ),
            ZERO,
        )


def year_money(fund_year: FundYear, *, post_id: int | None = None) -> YearMoney:
    """One grouped pass each over the year's plan splits, budget lines and payments (R4, R5),
    of every post or of one (`post_id`).

    Everything per post, per priority or in total is a sum over these few rows, so a report
    needs three aggregate queries however many projects there are."""
    money = YearMoney()
    splits = PlanPriority.objects.filter(plan__fund_year=fund_year)
    lines = BudgetLine.objects.counting().filter(year=fund_year.year)
    payments = Disbursement.objects.filter(date__year=fund_year.year)
    if post_id is not None:
        splits = splits.filter(plan__post=post_id)
        lines = lines.filter(project__post=post_id)
        payments = payments.filter(project__post=post_id)
    for row in splits.order_by().values("plan__post", "priority").annotate(total=Sum("amount")):
        money.in_plan[row["plan__post"], row["priority"]] = row["total"]
    if connection.vendor == "postgresql":  # the sums PostgreSQL keeps (BudgetTotal)
        kept = BudgetTotal.objects.filter(
            year=fund_year.year, status__in=COUNTING_PROJECT_STATUSES, lines__gt=0
        )  # a cell whose lines are all gone stays, empty
        if post_id is not None:
            kept = kept.filter(post=post_id)
        cells = kept.values_list("post", "priority", "status", "amount", "lines")
    else:
        cells = (
            lines.order_by()
            .values_list("project__post", "project__priority", "project__status")
            # One line per project and year: counting lines counts projects.
            .annotate(total=Sum("amount"), projects=Count("pk"))
        )
    for post, priority, status, total, projects in cells:
        key = (post, priority)
        sums = money.planned if status == ProjectStatus.PLANNED else money.committed
        sums[key] = sums.get(key, ZERO) + total
        if status in RUNNING_PROJECT_STATUSES:
            money.projects_in_use[key] = money.projects_in_use.get(key, 0) + projects
    for row in (
        payments.order_by()
        .values("project__post", "project__priority")
        .annotate(total=Sum("amount"))
    ):
        money.disbursed[row["project__post"], row["project__priority"]] = row["total"]
    return money


def fund_year_dashboard(fund_year: FundYear, *, today: date | None = None) -> dict:
    """A fund year at a glance (R5, R10): money per priority and per post, plans by status,
    overdue plans. A constant number of grouped queries, however many projects."""
    from countries.models import Participation
    from priorities.models import Priority

    from .models import AnnualPlan, PlanStatus

    today = today or timezone.localdate()
    money = year_money(fund_year)
    per_post = list(
        MoneyOverview.objects.filter(fund_year=fund_year).select_related("post", "fund_year")
    )
    for row in per_post:
        for name in YearMoney.SUMS:
            setattr(row, name, money.total(name, post=row.post_id))
    per_priority = [
        {
            "priority": priority,
            **{name: money.total(name, priority=priority.pk) for name in YearMoney.SUMS},
        }
        for priority in Priority.objects.order_by("position")
    ]
    status_counts = dict(
        AnnualPlan.objects.filter(fund_year=fund_year)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    plans_by_status = [
        {"status": status, "label": label, "count": status_counts.get(status, 0)}
        for status, label in PlanStatus.choices
    ]
    overdue_plans, posts_without_plan = [], []
    if today > fund_year.plan_submission_deadline:
        # R10: past the deadline, a plan that is not (yet again) with the ministry is late;
        # an amendment is not (its approved version was handed in on time).
        overdue_plans = list(
            AnnualPlan.objects.filter(
                fund_year=fund_year,
                status__in=PLAN_CYCLE.owed,
            )
            .select_related("post")
            .order_by("post__code")
        )
        posts_without_plan = list(
            Participation.objects.filter(fund_year=fund_year, selected=True)
            .exclude(post__annual_plans__fund_year=fund_year)
            .select_related("post")
            .order_by("post__code")
        )
    totals = {
        name: sum((getattr(row, name) for row in per_post), ZERO)
        for name in ("amount", "in_plan", "planned", "committed", "disbursed")
    }
    totals["remaining"] = totals["amount"] - totals["planned"] - totals["committed"]
    return {
        "fund_year": fund_year,
        "per_post": per_post,
        "per_priority": per_priority,
        "plans_by_status": plans_by_status,
        "overdue_plans": overdue_plans,
        "posts_without_plan": posts_without_plan,
        "totals": totals,
        "money": money,
        "deadline_passed": today > fund_year.plan_submission_deadline,
    }


def plan_review(plan) -> dict:
    """What a reviewer weighs for one annual plan (R4, R5, R9, R10): the plan's split per
    priority against the post's project money in the year, its projects, and warnings."""
    from .models import Allocation, PlanAim

    year = plan.fund_year.year
    allocation = Allocation.objects.filter(post=plan.post_id, fund_year=plan.fund_year).first()
    allocated = allocation.amount if allocation else ZERO
    chosen = list(
        plan.plan_priorities.select_related("priority")
        .prefetch_related(
            Prefetch("aims", queryset=PlanAim.objects.select_related("intended_result"))
        )
        .order_by("slot")
    )
    projects = list(
        projects_with_totals(
            Project.objects.counting()
            .filter(post=plan.post_id, budget_lines__year=year)
            .select_related("partner", "priority")
            .annotate(year_amount=Sum("budget_lines__amount", filter=Q(budget_lines__year=year)))
            .order_by("priority__position", "title")
        )
    )
    chosen_ids = {row.priority_id for row in chosen}
    per_priority = []
    for row in chosen:
        mine = [p for p in projects if p.priority_id == row.priority_id]
        per_priority.append(
            {
                "priority": row.priority,
                # R13: the intended results the post aims at with this priority this year.
                "aims": [aim.intended_result for aim in row.aims.all()],
                "in_plan": row.amount,
                "planned": sum(
                    (p.year_amount for p in mine if p.status == ProjectStatus.PLANNED), ZERO
                ),
                "committed": sum(
                    (p.year_amount for p in mine if p.status in COMMITTED_PROJECT_STATUSES),
                    ZERO,
                ),
            }
        )
    in_plan = sum((row.amount for row in chosen), ZERO)
    off_plan = [p for p in projects if p.priority_id not in chosen_ids]
    small = [p for p in projects if p.total_budget < plan.fund_year.min_project_size]
    return {
        "allocated": allocated,
        "in_plan": in_plan,
        "unplanned": allocated - in_plan,
        "per_priority": per_priority,
        "projects": projects,
        "off_plan": off_plan,
        "small": small,
    }


# --- The annual report (R10, R13) ---------------------------------------------------------------


def annual_report_figures(*, post_id: int, fund_year: FundYear) -> dict:
    """What the system knows of a post's year, beside the annual report's progress texts (R13):
    per chosen priority the money (in the plan, planned, committed, disbursed) and, per
    intended result the plan aims at, the post's progress text and the values its projects'
    indicators reported for the year. Nothing here is typed in by the post.

    A constant number of queries: the plan's priorities and aims, three grouped money
    queries, the allocation, the year's reported values and the report's progress texts."""
    from .models import Allocation, AnnualPlan, IndicatorValue, PlanAim, ResultProgress

    year = fund_year.year
    plan = (
        AnnualPlan.objects.filter(post=post_id, fund_year=fund_year)
        .only("pk", "status", "version", "narrative")
        .first()
    )
    chosen = list(
        PlanPriority.objects.filter(plan=plan)
        .select_related("priority")
        .order_by("slot")
        .prefetch_related(
            Prefetch(
                "aims",
                queryset=PlanAim.objects.select_related("intended_result").order_by(
                    "intended_result__position"
                ),
            )
        )
    ) if plan is not None else []  # fmt: skip
    money = year_money(fund_year, post_id=post_id)
    allocation = Allocation.objects.filter(post=post_id, fund_year=fund_year).first()
    allocated = allocation.amount if allocation else ZERO
    values: dict[int, list[dict]] = {}
    for reported in (
        IndicatorValue.objects.filter(indicator__project__post=post_id, year=year)
        .select_related("indicator__project")
        .order_by("indicator__project__title", "indicator__name")
    ):
        indicator = reported.indicator
        values.setdefault(indicator.intended_result_id, []).append(
            {
                "project": indicator.project.title,
                "project_id": indicator.project.public_id,
                "indicator": indicator.name,
                "unit": indicator.unit,
                "baseline": indicator.baseline,
                "target": indicator.target,
                "value": reported.value,
            }
        )
    progress = dict(
        ResultProgress.objects.filter(
            report__post=post_id, report__fund_year=fund_year
        ).values_list("intended_result_id", "text")
    )
    priorities = []
    for row in chosen:
        key = (post_id, row.priority_id)
        priorities.append(
            {
                "priority": row.priority,
                "in_plan": row.amount,
                "planned": money.planned.get(key, ZERO),
                "committed": money.committed.get(key, ZERO),
                "disbursed": money.disbursed.get(key, ZERO),
                "results": [
                    {
                        "intended_result": aim.intended_result,
                        "progress": progress.get(aim.intended_result_id, ""),
                        "values": values.get(aim.intended_result_id, []),
                    }
                    for aim in row.aims.all()
                ],
            }
        )
    totals = {name: money.total(name) for name in YearMoney.SUMS}
    totals["allocated"] = allocated
    totals["remaining"] = allocated - totals["planned"] - totals["committed"]
    return {"plan": plan, "year": year, "money": totals, "priorities": priorities}


def results_overview(fund_year: FundYear) -> list[dict]:
    """Per priority and intended result, across all posts, for a year (R13): how many posts
    aim at it, how many of their projects serve it in the year, the values reported for it
    (counted and summed per unit), and how many annual reports with the ministry give their
    progress on it (and how many of those are accepted). Only approved plans and submitted or
    accepted reports count. Six queries, however many posts and projects."""
    from priorities.models import IntendedResult, Priority

    from .models import AnnualReportStatus, IndicatorValue, PlanAim, ResultProgress

    year = fund_year.year
    posts_aiming = dict(
        # Plans in force: approved (or approved and being amended), not drafts.
        PlanAim.objects.filter(
            plan_priority__plan__fund_year=fund_year,
            plan_priority__plan__status__in=PLAN_IN_FORCE_STATUSES,
        )
        .order_by()
        .values_list("intended_result")
        .annotate(n=Count("plan_priority__plan__post", distinct=True))
    )
    # The projects that belong to the year, as R4 and R13 count them: money in it, or (still
    # without a budget line) starting in it.
    in_year = Project.objects.of_year(year)
    served = Project.intended_results.through.objects.filter(project__in=in_year.values("pk"))
    projects = dict(
        served.order_by().values_list("intendedresult").annotate(n=Count("project", distinct=True))
    )
    reported: dict[int, list[dict]] = {}
    for row in (
        IndicatorValue.objects.filter(year=year)
        .order_by()
        .values("indicator__intended_result", "indicator__unit")
        .annotate(values=Count("pk"), total=Sum("value"))
        .order_by("indicator__intended_result", "indicator__unit")
    ):
        reported.setdefault(row["indicator__intended_result"], []).append(
            {"unit": row["indicator__unit"], "values": row["values"], "total": row["total"]}
        )
    narrated: dict[int, dict[str, int]] = {}
    for result_id, status, n in (
        # Reports with the ministry (submitted or accepted), not drafts.
        ResultProgress.objects.filter(
            report__fund_year=fund_year,
            report__status__in=HANDED_IN_REPORT_STATUSES,
        )
        .order_by()
        .values_list("intended_result", "report__status")
        .annotate(n=Count("pk"))
    ):
        counts = narrated.setdefault(result_id, {"reports": 0, "accepted": 0})
        counts["reports"] += n
        if status == AnnualReportStatus.ACCEPTED:
            counts["accepted"] += n
    results_of: dict[int, list] = {}
    for result in IntendedResult.objects.order_by("priority__position", "position"):
        results_of.setdefault(result.priority_id, []).append(result)
    overview = []
    for priority in Priority.objects.order_by("position"):
        rows = [
            {
                "intended_result": result,
                "posts": posts_aiming.get(result.pk, 0),
                "projects": projects.get(result.pk, 0),
                "reported": reported.get(result.pk, []),
                "values": sum(r["values"] for r in reported.get(result.pk, [])),
                **narrated.get(result.pk, {"reports": 0, "accepted": 0}),
            }
            for result in results_of.get(priority.pk, [])
        ]
        overview.append(
            {
                "priority": priority,
                "results": rows,
                "values": sum(row["values"] for row in rows),
                "reports": sum(row["reports"] for row in rows),
            }
        )
    return overview


def documents_due(
    fund_years, *, model, deadline: str, open_statuses, today: date, document: str
) -> list[dict]:
    """R10: per post selected for one of `fund_years`, a row when its plan or report for that
    year is not with the ministry yet: none, or one in `open_statuses`. `deadline` names the
    fund year's date it is due by. Rows as the daily reminder sends them."""
    from countries.models import Participation

    fund_years = list(fund_years)
    status = {
        (row["post"], row["fund_year"]): row["status"]
        for row in model.objects.filter(fund_year__in=fund_years).values(
            "post", "fund_year", "status"
        )
    }
    rows = []
    for participation in (
        Participation.objects.filter(fund_year__in=fund_years, selected=True)
        .select_related("post", "fund_year")
        .order_by("fund_year__year", "post__code")
    ):
        fund_year = participation.fund_year
        current = status.get((participation.post_id, fund_year.pk))
        if current is not None and current not in open_statuses:
            continue
        due = getattr(fund_year, deadline)
        rows.append(
            {
                "document": document,
                "post": participation.post.code,
                "post_id": participation.post_id,
                "fund_year": fund_year.year,
                "deadline": due.isoformat(),
                "status": current or "",
                "overdue": due < today,
            }
        )
    return rows


def annual_report_reminders(today: date, *, within_days: int) -> list[dict]:
    """R10: the posts whose annual report is due within `within_days` days, or overdue (for
    at most a year), and not with the ministry: none yet, a draft or a returned one."""
    from datetime import timedelta

    from fund.checks import REFORM_START_YEAR

    from .models import AnnualReport

    fund_years = FundYear.objects.filter(
        year__gte=REFORM_START_YEAR,
        report_deadline__lte=today + timedelta(days=within_days),
        report_deadline__gte=today - timedelta(days=365),
    )
    return documents_due(
        fund_years,
        model=AnnualReport,
        deadline="report_deadline",
        open_statuses=ANNUAL_REPORT_CYCLE.editable,
        today=today,
        document="annual_report",
    )


# --- A post's money in a year, as the rules count it (R5) ------------------------------------


def sum_of(queryset, field: str = "amount") -> Decimal:
    """The sum of a money column, zero for no rows."""
    return queryset.aggregate(total=Sum(field))["total"] or ZERO


def allocated_to(post, year: int) -> Decimal:
    """A post's allocation for a year, zero without one."""
    allocation = Allocation.objects.filter(post=post, fund_year__year=year).first()
    return allocation.amount if allocation else ZERO


def project_money(post, year: int, *, exclude_project: Project | None = None) -> Decimal:
    """R5: planned plus committed project money of a post for a calendar year."""
    lines = BudgetLine.objects.counting().filter(project__post=post, year=year)
    if exclude_project is not None:
        lines = lines.exclude(project=exclude_project)
    return sum_of(lines)


def post_year_headroom(*, post, year: int) -> Decimal:
    """R5: what is left of a post's allocation for new project money in a year."""
    return allocated_to(post, year) - project_money(post, year)


# --- The year a screen opens on -----------------------------------------------------------------


def plan_year_at_hand(years: list[FundYear], today: date) -> FundYear | None:
    """The fund year a screen of plans opens on: the latest one whose plans are due (their
    deadline passed) and that has not ended — in December the next year's plans are being
    reviewed — else this calendar year's, else the newest (`years` newest first)."""
    due = [y for y in years if y.plan_submission_deadline <= today and y.year >= today.year]
    if due:
        return max(due, key=lambda y: y.year)
    return next((y for y in years if y.year == today.year), years[0] if years else None)


def results_year_at_hand(years: list[FundYear], today: date) -> FundYear | None:
    """The fund year a screen of results opens on: the latest with reported values or an
    annual report (R13), else the latest that has begun, else the newest (`years` newest
    first) — never an empty future year."""
    from .models import AnnualReport, IndicatorValue

    reported = set(IndicatorValue.objects.values_list("year", flat=True).distinct()) | set(
        AnnualReport.objects.values_list("fund_year__year", flat=True).distinct()
    )
    for year in years:
        if year.year in reported:
            return year
    return next((y for y in years if y.year <= today.year), years[0] if years else None)
