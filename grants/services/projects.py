"""Projects, their budget per calendar year and payments (R4–R7, R9, R11, R13).

Why one module of ~700 lines: creating, changing and bulk-creating projects check R4, R5, R6
and R9 together through one ledger of the post's years (`_PostLedger`); split apart, each
part would need the whole ledger. Payments, which check the same budget lines, stay beside.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from countries.models import Participation, Post
from fund.access import Action, UnknownObject, can
from fund.checks import (
    REFORM_START_YEAR,
    ZERO,
    FundRuleError,
    as_domain_error,
    ensure_budget_years_in_period,
    ensure_choice,
    ensure_date,
    ensure_money,
    ensure_period,
    ensure_text,
    ensure_within,
    ensure_year,
    ensure_year_writable,
    eur,
    invalid,
    is_reformed_year,
)
from fund.services import authorize, current_post_id, locked, save_validated, service
from grants.models import (
    COMMITTED_PROJECT_STATUSES,
    COUNTING_PROJECT_STATUSES,
    Allocation,
    BudgetLine,
    Disbursement,
    IndicatorValue,
    Partner,
    PlanAim,
    PlanPriority,
    Project,
    ProjectStatus,
    Sensitivity,
)
from grants.selectors import sum_of
from priorities.models import IntendedResult, Priority

from .base import as_list, lock_post, resolve_intended_results, resolve_priority

# --------------------------------------------------------------------------------------------
# Projects and money (R4, R5, R6, R7, R9, R11, R13)


@dataclass
class _PostLedger:
    """A post's money and choices per year, read once under the post lock.

    The single project path and the bulk path both check each project against it, so the
    rules R4–R7 are written once; `add` keeps running totals for bulk creation.
    """

    post: Post
    allocated: dict[int, Decimal] = field(default_factory=dict)
    counted: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    participating: set[int] = field(default_factory=set)
    chosen: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    aimed: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def load(cls, post: Post, years: Iterable[int], *, exclude_project=None) -> _PostLedger:
        years = set(years)
        ledger = cls(post=post)
        ledger.allocated = dict(
            Allocation.objects.filter(post=post, fund_year__year__in=years).values_list(
                "fund_year__year", "amount"
            )
        )
        lines = BudgetLine.objects.counting().filter(project__post=post, year__in=years)
        if exclude_project is not None:
            lines = lines.exclude(project=exclude_project)
        for year, total in (
            lines.values("year").annotate(total=Sum("amount")).values_list("year", "total")
        ):
            ledger.counted[year] = total
        ledger.participating = set(
            Participation.objects.filter(
                post=post, fund_year__year__in=years, selected=True
            ).values_list("fund_year__year", flat=True)
        )
        for year, priority_id in PlanPriority.objects.filter(
            plan__post=post, plan__fund_year__year__in=years
        ).values_list("plan__fund_year__year", "priority_id"):
            ledger.chosen[year].add(priority_id)
        for year, result_id in PlanAim.objects.filter(
            plan_priority__plan__post=post, plan_priority__plan__fund_year__year__in=years
        ).values_list("plan_priority__plan__fund_year__year", "intended_result_id"):
            ledger.aimed[year].add(result_id)
        return ledger

    def add(
        self,
        *,
        priority: Priority,
        status: str,
        budget: Mapping[int, Decimal],
        changed_years: set[int],
        intended_results: Sequence[IntendedResult] = (),
        history_import: bool = False,
    ) -> None:
        for year, amount in sorted(budget.items()):
            if year in changed_years:
                ensure_year_writable(year, history_import=history_import, field="budget")
            elif not is_reformed_year(year):
                continue  # unchanged history (R7) is not re-judged
            if year not in self.participating:
                raise FundRuleError(
                    "R6",
                    _("The post does not take part in the fund in %(year)s; no money can go "
                      "to that year."),
                    field="budget",
                    params={"year": year},
                )  # fmt: skip
            if is_reformed_year(year) and priority.pk not in self.chosen[year]:
                raise FundRuleError(
                    "R4",
                    _(
                        "'%(priority)s' is not one of the post's chosen priorities for "
                        "%(year)s; choose it in that year's annual plan first."
                    ),
                    field="priority",
                    params={"priority": priority, "year": year},
                )
            unaimed = next((r for r in intended_results if r.pk not in self.aimed[year]), None)
            if is_reformed_year(year) and unaimed is not None:
                # R13, the project's side: the plan names what the post aims at this year.
                raise FundRuleError(
                    "R13",
                    _(
                        "The annual plan %(year)s does not aim at '%(result)s'; add it to the "
                        "plan's aims first."
                    ),
                    field="intended_results",
                    params={"result": unaimed, "year": year},
                )
            if status in COUNTING_PROJECT_STATUSES:
                total = self.counted[year] + amount
                allocated = self.allocated.get(year, ZERO)
                ensure_within(
                    total=total,
                    limit=allocated,
                    field="budget",
                    message=_(
                        "Projects of the post would take %(total)s in %(year)s, beyond its "
                        "allocation of %(allocated)s."
                    ),
                    params={"total": eur(total), "year": year, "allocated": eur(allocated)},
                )
                self.counted[year] = total


def _with_start_year(budget: Mapping[int, Decimal], start: date) -> dict[int, Decimal]:
    """The years a project is checked in (R4, R6): those with money or, for a project without
    any budget line yet, its start year, so that it cannot slip past both rules."""
    return dict(budget) if budget else {start.year: ZERO}


def _clean_budget(budget) -> dict[int, Decimal]:
    """{year: amount}, or (year, amount) pairs: whole years (never 2027.9 read as 2027),
    each once (R9), and money (R5)."""
    if isinstance(budget, Mapping):
        pairs = list(budget.items())
    elif isinstance(budget, list | tuple) and all(
        isinstance(pair, list | tuple) and len(pair) == 2 for pair in budget
    ):
        pairs = list(budget)
    else:
        raise invalid(_("Give the budget as amounts per calendar year."), field="budget")
    cleaned = {}
    for year, amount in pairs:
        year = ensure_year(year, field="budget")
        if year in cleaned:
            raise FundRuleError(
                "R9", _("%(year)s is given twice."), field="budget", params={"year": year}
            )
        cleaned[year] = ensure_money(amount, field="budget")
    return cleaned


def _clean_results(intended_results) -> list[IntendedResult]:
    """Intended results as stored, named by object or by code (R13 reads their priority from
    the database)."""
    return resolve_intended_results(intended_results, field="intended_results")


def _distinct_results(results: list[IntendedResult]) -> list[IntendedResult]:
    """R13: a project serves each intended result once."""
    if len({result.pk for result in results}) != len(results):
        raise FundRuleError("R13", _("Name each intended result once."), field="intended_results")
    return results


def _clean_partner(partner) -> Partner:
    """A partner is named by a stored Partner; whether it exists and belongs to the post is read
    from the database for the whole batch at once (`_partners_of`, R11)."""
    if not isinstance(partner, Partner) or not isinstance(partner.pk, int):
        raise UnknownObject(_("partner"), field="partner")
    return partner


def _clean_specs(specs) -> list[ProjectSpec]:
    """Every field of each new project checked for type and range before any rule (R9, R13);
    priorities and intended results are read from the database once for the whole batch."""
    specs = as_list(specs, field="specs")
    if not all(isinstance(spec, ProjectSpec) for spec in specs):
        raise invalid(_("Give a project."), field="specs")
    priorities = {}
    for spec in specs:
        key = _priority_key(spec.priority)
        if key is None or key not in priorities:
            resolved = resolve_priority(spec.priority, field="priority")
            if key is not None:
                priorities[key] = resolved
    result_lists = [as_list(spec.intended_results, field="intended_results") for spec in specs]
    stored_results = iter(_clean_results([r for results in result_lists for r in results]))
    return [
        ProjectSpec(
            partner=_clean_partner(spec.partner),
            priority=priorities.get(_priority_key(spec.priority))
            or resolve_priority(spec.priority, field="priority"),
            title=ensure_text(spec.title, field="title", max_length=250, required=True),
            description=ensure_text(spec.description, field="description"),
            start_date=ensure_date(spec.start_date, field="start_date"),
            end_date=ensure_date(spec.end_date, field="end_date"),
            budget=spec.budget,
            status=ensure_choice(spec.status, ProjectStatus, rule="R9", field="status"),
            intended_results=_distinct_results([next(stored_results) for _result in results]),
        )
        for spec, results in zip(specs, result_lists, strict=True)
    ]


def _priority_key(value):
    """How a batch names a priority, for resolving each one once; None if it can't be a key."""
    if isinstance(value, Priority):
        return ("pk", value.pk) if isinstance(value.pk, int) else None
    return ("code", value) if isinstance(value, str) else None


def _partners_of(post: Post, partners: Iterable[Partner]) -> set[int]:
    """Which of these partners belong to the post, read from the database under the post lock
    (the caller's copies may be stale, R11). One query for any number of partners."""
    return set(
        Partner.objects.filter(pk__in={p.pk for p in partners}, post_id=post.pk).values_list(
            "pk", flat=True
        )
    )


def _check_project_fields(
    *,
    post: Post,
    partner: Partner,
    priority: Priority,
    start_date,
    end_date,
    intended_results,
    own_partner_ids: set[int],
) -> None:
    if partner.pk not in own_partner_ids:
        # R11: another post's partner is treated as unknown, never confirmed to exist.
        raise UnknownObject(_("partner"), field="partner")
    ensure_period(start_date, end_date)
    foreign = [r for r in intended_results if r.priority_id != priority.pk]
    if foreign:
        raise FundRuleError(
            "R13",
            _("Intended result '%(result)s' belongs to another priority than '%(priority)s'."),
            field="intended_results",
            params={"result": foreign[0], "priority": priority},
        )


def _disbursed_per_year(project: Project) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for when, amount in project.disbursements.values_list("date", "amount"):
        totals[when.year] += amount
    return totals


@dataclass
class ProjectSpec:
    """Input of a new project, used by the bulk path (seeds, imports)."""

    partner: Partner
    priority: Priority
    title: str
    start_date: date
    end_date: date
    budget: Mapping[int, object]
    status: str = ProjectStatus.PLANNED
    description: str = ""
    intended_results: Sequence[IntendedResult] = ()


@service
def project_create(
    *,
    actor,
    post: Post,
    partner: Partner,
    priority: Priority,
    title: str,
    start_date: date,
    end_date: date,
    description: str = "",
    status: str = ProjectStatus.PLANNED,
    intended_results: Sequence[IntendedResult] = (),
    budget: Mapping[int, object] | None = None,
    history_import: bool = False,
) -> Project:
    """Create a project with its budget per calendar year (R4–R7, R9, R11, R13)."""
    projects = projects_bulk_create(
        actor=actor,
        post=post,
        specs=[
            ProjectSpec(
                partner=partner,
                priority=priority,
                title=title,
                description=description,
                start_date=start_date,
                end_date=end_date,
                status=status,
                intended_results=intended_results,
                budget=budget or {},
            )
        ],
        history_import=history_import,
        validate_models=True,
    )
    return projects[0]


@service
def projects_bulk_create(
    *,
    actor,
    post: Post,
    specs: Sequence[ProjectSpec],
    history_import: bool = False,
    validate_models: bool = False,
) -> list[Project]:
    """Create many projects of one post in a few queries, checking each against every rule.

    The ledger accumulates, so the batch as a whole respects the allocation (R5).
    """
    post = lock_post(post)
    authorize(actor, Action.EDIT_PROJECT, post, what=_("post"), field="post",
               history_import=history_import)  # fmt: skip
    specs = _clean_specs(specs)
    cleaned = [_clean_budget(spec.budget) for spec in specs]
    years = {year for budget in cleaned for year in budget} | {
        spec.start_date.year for spec in specs if spec.start_date
    }
    ledger = _PostLedger.load(post, years)
    own_partner_ids = _partners_of(post, (spec.partner for spec in specs))
    projects = []
    for spec, budget in zip(specs, cleaned, strict=True):
        _check_project_fields(
            post=post,
            partner=spec.partner,
            priority=spec.priority,
            start_date=spec.start_date,
            end_date=spec.end_date,
            intended_results=spec.intended_results,
            own_partner_ids=own_partner_ids,
        )
        # R7: a project that starts before the reform records history, as its budget would.
        ensure_year_writable(
            spec.start_date.year, history_import=history_import, field="start_date"
        )
        if spec.status == ProjectStatus.CANCELLED:
            raise FundRuleError(
                "R9", _("A new project cannot start out cancelled."), field="status"
            )
        ensure_budget_years_in_period(budget, spec.start_date, spec.end_date)
        checked = _with_start_year(budget, spec.start_date)
        ledger.add(
            priority=spec.priority,
            status=spec.status,
            budget=checked,
            changed_years=set(checked),  # a new project records every year it is checked in
            intended_results=spec.intended_results,
            history_import=history_import,
        )
        project = Project(
            post=post,
            partner=spec.partner,
            priority=spec.priority,
            title=spec.title,
            description=spec.description,
            start_date=spec.start_date,
            end_date=spec.end_date,
            status=spec.status,
        )
        project._history_user = actor
        if validate_models:
            try:
                project.full_clean()
            except ValidationError as error:
                raise as_domain_error(error) from error
        projects.append(project)

    if validate_models:  # one project: plain saves keep the audit trail per row
        for project in projects:
            project.save()
    else:
        from simple_history.utils import bulk_create_with_history

        bulk_create_with_history(projects, Project, batch_size=2000, default_user=actor)
        # SQLite and older backends may not return primary keys from bulk inserts.
        if projects and projects[0].pk is None:
            ids = dict(
                Project.objects.filter(public_id__in=[p.public_id for p in projects]).values_list(
                    "public_id", "pk"
                )
            )
            for project in projects:
                project.pk = ids[project.public_id]
    lines = [
        BudgetLine(project=project, year=year, amount=amount)
        for project, budget in zip(projects, cleaned, strict=True)
        for year, amount in sorted(budget.items())
    ]
    if validate_models:
        for line in lines:
            save_validated(line, actor)
    else:
        from simple_history.utils import bulk_create_with_history

        bulk_create_with_history(lines, BudgetLine, batch_size=5000, default_user=actor)
    links = [
        Project.intended_results.through(project_id=project.pk, intendedresult_id=result.pk)
        for project, spec in zip(projects, specs, strict=True)
        for result in spec.intended_results
    ]
    Project.intended_results.through.objects.bulk_create(links, batch_size=5000)
    return projects


_PROJECT_FIELDS = (
    "partner",
    "priority",
    "title",
    "description",
    "start_date",
    "end_date",
    "status",
)


def _clean_project_changes(changes: Mapping) -> dict:
    """The changed fields of a project, each checked for type and range (R9, R11)."""
    checks = {
        "partner": _clean_partner,
        "priority": lambda v: resolve_priority(v, field="priority"),
        "title": lambda v: ensure_text(v, field="title", max_length=250, required=True),
        "description": lambda v: ensure_text(v, field="description"),
        "start_date": lambda v: ensure_date(v, field="start_date"),
        "end_date": lambda v: ensure_date(v, field="end_date"),
        "status": lambda v: ensure_choice(v, ProjectStatus, rule="R9", field="status"),
    }
    return {name: checks[name](value) for name, value in changes.items()}


def _ensure_history_untouched(stored: Project, changes: Mapping) -> None:
    """R7: a project that lies wholly before the reform is history; and dates before the
    reform, where a project started or ended, stay as they were."""
    if stored.end_date.year < REFORM_START_YEAR:
        ensure_year_writable(stored.end_date.year, field="project")
    for name in ("start_date", "end_date"):
        if name in changes and changes[name] != getattr(stored, name):
            ensure_year_writable(getattr(stored, name).year, field=name)
            ensure_year_writable(changes[name].year, field=name)


def _ensure_records_in_period(project: Project) -> None:
    """Payments (R9) and reported values (R13) stay within the project period, whatever is
    edited later."""
    outside = (
        project.disbursements.filter(Q(date__lt=project.start_date) | Q(date__gt=project.end_date))
        .order_by("date")
        .first()
    )
    if outside is not None:
        raise FundRuleError(
            "R9",
            _("A payment of %(date)s would fall outside the project period %(start)s – %(end)s."),
            field="start_date" if outside.date < project.start_date else "end_date",
            params={
                "date": outside.date.isoformat(),
                "start": project.start_date.isoformat(),
                "end": project.end_date.isoformat(),
            },
        )
    reported = (
        IndicatorValue.objects.filter(indicator__project=project)
        .filter(Q(year__lt=project.start_date.year) | Q(year__gt=project.end_date.year))
        .order_by("year")
        .first()
    )
    if reported is not None:
        raise FundRuleError(
            "R13",
            _("A value is reported for %(year)s, outside the project period %(start)s – %(end)s."),
            field="start_date" if reported.year < project.start_date.year else "end_date",
            params={
                "year": reported.year,
                "start": project.start_date.isoformat(),
                "end": project.end_date.isoformat(),
            },
        )


@service
def project_update(
    *,
    actor,
    project: Project,
    budget: Mapping[int, object] | None = None,
    intended_results: Sequence[IntendedResult] | None = None,
    history_import: bool = False,
    **changes,
) -> Project:
    """Change a project's fields, budget lines (all of them, when given) or intended results.

    The new state is checked as a whole (R4–R7, R9, R11, R13); payments already made stay
    covered by the budget (R5).
    """
    what = _("project")
    post = lock_post(current_post_id(Project, project, what=what, field="project"))
    project = locked(Project.objects.all(), project, what=what, field="project")
    authorize(actor, Action.EDIT_PROJECT, project, what=what, field="project",
               history_import=history_import)  # fmt: skip
    unknown = set(changes) - set(_PROJECT_FIELDS)
    if unknown:
        raise invalid(
            _("A project has no field %(fields)s."),
            field=sorted(unknown)[0],
            params={"fields": ", ".join(sorted(unknown))},
        )
    changes = _clean_project_changes(changes)
    original = Project(
        status=project.status,
        priority_id=project.priority_id,
        partner_id=project.partner_id,
        start_date=project.start_date,
        end_date=project.end_date,
    )
    old_budget = dict(project.budget_lines.values_list("year", "amount"))
    new_budget = _clean_budget(budget) if budget is not None else dict(old_budget)
    results = (
        _distinct_results(_clean_results(intended_results))
        if intended_results is not None
        else list(project.intended_results.all())
    )
    if not history_import:
        _ensure_history_untouched(original, changes)
    new_partner = changes.get("partner")
    if (
        new_partner is not None
        and new_partner.pk != project.partner_id
        and not can(actor, Action.PUBLISH)
        and Partner.objects.filter(pk=project.partner_id, sensitivity=Sensitivity.HIGH).exists()
        and not Partner.objects.filter(pk=new_partner.pk, sensitivity=Sensitivity.HIGH).exists()
    ):
        # Moving the project to a less sensitive partner would publish it past the ministry.
        raise FundRuleError(
            "R11",
            _("A project of a highly sensitive partner moves only to another such partner."),
            field="partner",
        )
    # R11: a clearance covers the texts it saw under the partner it cleared; a new title or
    # description, or the project under another partner, is not covered.
    texts_changed = any(
        name in ("title", "description") and getattr(project, name) != value
        for name, value in changes.items()
    ) or (new_partner is not None and new_partner.pk != project.partner_id)
    for name, value in changes.items():
        setattr(project, name, value)
    if texts_changed:  # R11: the ministry's clearance covered the texts as they were
        project.texts_changed_at = timezone.now()
    _check_project_fields(
        post=post,
        partner=project.partner,
        priority=project.priority,
        start_date=project.start_date,
        end_date=project.end_date,
        intended_results=results,
        own_partner_ids=_partners_of(post, [project.partner]),
    )
    ensure_budget_years_in_period(new_budget, project.start_date, project.end_date)

    changed_years = {
        year
        for year in set(old_budget) | set(new_budget)
        if old_budget.get(year) != new_budget.get(year)
    }
    # The years the project belongs to (R4, R6): with money, or its start year while it has
    # no budget line. Entering or leaving a year changes that year's record too (R7).
    years_before = set(_with_start_year(old_budget, original.start_date))
    years_after = set(_with_start_year(new_budget, project.start_date))
    changed_years |= years_before ^ years_after
    counts_before = original.status in COUNTING_PROJECT_STATUSES
    counts_after = project.status in COUNTING_PROJECT_STATUSES
    if (
        counts_before != counts_after
        or original.priority_id != project.priority_id
        or original.partner_id != project.partner_id
    ):
        # Such a change rewrites what every year's money was for: all years the project
        # belongs to are touched, including the start year of a project without budget lines
        # (R7 keeps pre-reform years as they were).
        changed_years |= years_before | years_after
    for year in changed_years - set(new_budget):  # removed lines
        ensure_year_writable(year, history_import=history_import, field="budget")

    disbursed = _disbursed_per_year(project)
    for year, paid in disbursed.items():
        if paid > new_budget.get(year, ZERO):
            raise FundRuleError(
                "R5",
                _("%(paid)s was already paid in %(year)s; the budget for that year cannot be "
                  "lower."),
                field="budget",
                params={"paid": eur(paid), "year": year},
            )  # fmt: skip
    if disbursed and project.status not in COMMITTED_PROJECT_STATUSES:
        raise FundRuleError(
            "R5",
            _("The project has payments; it stays active or completed."),
            field="status",
        )
    _ensure_records_in_period(project)
    checked = _with_start_year(new_budget, project.start_date)
    ledger = _PostLedger.load(post, checked, exclude_project=project)
    ledger.add(
        priority=project.priority,
        status=project.status,
        budget=checked,
        changed_years=changed_years,
        intended_results=results,
        history_import=history_import,
    )
    if intended_results is not None:
        measured = project.indicators.exclude(intended_result__in=results).first()
        if measured is not None:
            raise FundRuleError(
                "R13",
                _("Indicator '%(indicator)s' measures '%(result)s'; the project keeps serving it."),
                field="intended_results",
                params={"indicator": measured.name, "result": measured.intended_result},
            )
    save_validated(project, actor)
    if intended_results is not None:
        project.intended_results.set(results)
    for line in project.budget_lines.all():
        if line.year not in new_budget:
            line._history_user = actor
            line.delete()
        elif line.amount != new_budget[line.year]:
            line.amount = new_budget[line.year]
            save_validated(line, actor)
    for year in set(new_budget) - set(old_budget):
        save_validated(BudgetLine(project=project, year=year, amount=new_budget[year]), actor)
    return project


@service
def disbursement_create(
    *,
    actor,
    project: Project,
    date: date,
    amount,
    reference: str = "",
    history_import: bool = False,
) -> Disbursement:
    """Record a payment: committed projects only, within the year's budget line (R5, R7)."""
    what = _("project")
    lock_post(current_post_id(Project, project, what=what, field="project"))
    project = locked(Project.objects.all(), project, what=what, field="project")
    authorize(actor, Action.PAY, project, what=what, field="project",
               history_import=history_import)  # fmt: skip
    amount = ensure_money(amount, allow_zero=False)
    date = ensure_date(date, field="date")
    reference = ensure_text(reference, field="reference", max_length=100)
    ensure_year_writable(date.year, history_import=history_import, field="date")
    if not project.start_date <= date <= project.end_date:
        raise FundRuleError(
            "R9",
            _("%(date)s is outside the project period %(start)s – %(end)s."),
            field="date",
            params={
                "date": date.isoformat(),
                "start": project.start_date.isoformat(),
                "end": project.end_date.isoformat(),
            },
        )
    if project.status not in COMMITTED_PROJECT_STATUSES:
        raise FundRuleError(
            "R5", _("Only an active (committed) project can receive payments."), field="project"
        )
    budget = project.budget_lines.filter(year=date.year).first()
    paid = sum_of(project.disbursements.filter(date__year=date.year))
    limit = budget.amount if budget else ZERO
    ensure_within(
        total=paid + amount,
        limit=limit,
        field="amount",
        message=_(
            "Payments in %(year)s would total %(total)s, beyond the project's budget of "
            "%(budget)s for that year."
        ),
        params={"year": date.year, "total": eur(paid + amount), "budget": eur(limit)},
    )
    disbursement = Disbursement(project=project, date=date, amount=amount, reference=reference)
    save_validated(disbursement, actor)
    return disbursement
