"""Every write to the fund goes through these functions: admin, API, tasks and seeds alike.

Each is one transaction. Cross-row rules lock their guarding parent row first, always in the
order FundYear → Post → AnnualPlan, so concurrent writers queue instead of both passing:
R1 and the envelope (R5) lock the FundYear; a post's money, plans and projects (R2, R4, R5)
lock the Post. A breach raises FundRuleError with its rule id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from countries.models import Country, Participation, Post
from priorities.models import IntendedResult, Priority

from .models import (
    COMMITTED_PROJECT_STATUSES,
    COUNTING_PROJECT_STATUSES,
    Allocation,
    AnnualPlan,
    BudgetLine,
    Disbursement,
    FundYear,
    Indicator,
    IndicatorValue,
    Partner,
    PartnerType,
    PlanPriority,
    PlanStatus,
    PlanTransition,
    Project,
    ProjectStatus,
    Sensitivity,
)
from .rules import (
    ZERO,
    FundRuleError,
    ensure_budget_years_in_period,
    ensure_distinct_priorities,
    ensure_money,
    ensure_period,
    ensure_within,
    ensure_year_writable,
    eur,
    is_reformed_year,
)

# --------------------------------------------------------------------------------------------
# Helpers


def _save(instance, actor) -> None:
    """Validate (fields and constraints), record the acting user for the audit trail, save."""
    instance._history_user = actor
    instance.full_clean()
    instance.save()


def _lock_fund_year(fund_year: FundYear | int) -> FundYear:
    pk = fund_year.pk if isinstance(fund_year, FundYear) else fund_year
    return FundYear.objects.select_for_update().get(pk=pk)


def _lock_post(post: Post | int) -> Post:
    pk = post.pk if isinstance(post, Post) else post
    return Post.objects.select_for_update().get(pk=pk)


def _sum(queryset, field: str = "amount") -> Decimal:
    return queryset.aggregate(total=Sum(field))["total"] or ZERO


def _allocated(post: Post, year: int) -> Decimal:
    allocation = Allocation.objects.filter(post=post, fund_year__year=year).first()
    return allocation.amount if allocation else ZERO


def _ensure_participates(post: Post, year: int, *, field: str | None = None) -> None:
    """R6: only posts selected for a year get budget, plans or projects for it."""
    if not Participation.objects.filter(post=post, fund_year__year=year, selected=True).exists():
        raise FundRuleError(
            "R6",
            _("The post does not take part in the fund in %(year)s."),
            field=field,
            params={"year": year},
        )


def _project_money(post: Post, year: int, *, exclude_project: Project | None = None) -> Decimal:
    """R5: planned plus committed project money of a post for a calendar year."""
    lines = BudgetLine.objects.filter(
        project__post=post, year=year, project__status__in=COUNTING_PROJECT_STATUSES
    )
    if exclude_project is not None:
        lines = lines.exclude(project=exclude_project)
    return _sum(lines)


def post_year_headroom(*, post: Post, year: int) -> Decimal:
    """R5: what is left of a post's allocation for new project money in a year."""
    return _allocated(post, year) - _project_money(post, year)


# --------------------------------------------------------------------------------------------
# Fund years and allocations


@transaction.atomic
def fund_year_save(*, actor, fund_year: FundYear) -> FundYear:
    """Create or update a fund year; the envelope never drops below its allocations (R5)."""
    fund_year.envelope = ensure_money(fund_year.envelope, field="envelope")
    if fund_year.pk:
        stored = _lock_fund_year(fund_year)
        if stored.year != fund_year.year:
            # R1/R7 depend on the year, and budget lines are keyed by calendar year.
            raise FundRuleError(
                "R7",
                _("A fund year keeps its year (%(year)s); create a new fund year instead."),
                field="year",
                params={"year": stored.year},
            )
        allocated = _sum(Allocation.objects.filter(fund_year=fund_year))
        ensure_within(
            total=allocated,
            limit=fund_year.envelope,
            field="envelope",
            message=_(
                "Posts are already allocated %(allocated)s for %(year)s; the envelope cannot "
                "be lower."
            ),
            params={"allocated": eur(allocated), "year": fund_year.year},
        )
    _save(fund_year, actor)
    return fund_year


@transaction.atomic
def allocation_set(*, actor, post: Post, fund_year: FundYear, amount, note: str = "") -> Allocation:
    """Set the budget of a post for a fund year (R5 envelope and commitments, R6)."""
    amount = ensure_money(amount)
    fund_year = _lock_fund_year(fund_year)
    post = _lock_post(post)
    _ensure_participates(post, fund_year.year, field="post")

    allocation = Allocation.objects.filter(post=post, fund_year=fund_year).first() or Allocation(
        post=post, fund_year=fund_year
    )
    others = _sum(Allocation.objects.filter(fund_year=fund_year).exclude(pk=allocation.pk))
    ensure_within(
        total=others + amount,
        limit=fund_year.envelope,
        field="amount",
        message=_(
            "Allocations for %(year)s would total %(total)s, beyond the fund's envelope of "
            "%(envelope)s."
        ),
        params={
            "year": fund_year.year,
            "total": eur(others + amount),
            "envelope": eur(fund_year.envelope),
        },
    )
    plan_total = _sum(PlanPriority.objects.filter(plan__post=post, plan__fund_year=fund_year))
    project_total = _project_money(post, fund_year.year)
    ensure_within(
        total=max(plan_total, project_total),
        limit=amount,
        field="amount",
        message=_(
            "For %(year)s the post's annual plan divides %(plan)s and its projects take "
            "%(projects)s; the allocation cannot be lower than %(needed)s."
        ),
        params={
            "year": fund_year.year,
            "plan": eur(plan_total),
            "projects": eur(project_total),
            "needed": eur(max(plan_total, project_total)),
        },
    )
    allocation.amount = amount
    allocation.note = note
    _save(allocation, actor)
    return allocation


# --------------------------------------------------------------------------------------------
# Annual plans (R2, R3, R5, R7, R10)


def _locked_plan(plan: AnnualPlan) -> AnnualPlan:
    _lock_post(plan.post_id)
    # of=("self",): lock only the plan row, not the joined FundYear (that would invert the
    # FundYear → Post lock order of allocation_set and deadlock against it).
    return (
        AnnualPlan.objects.select_for_update(of=("self",))
        .select_related("fund_year", "post")
        .get(pk=plan.pk)
    )


def _ensure_editable(plan: AnnualPlan) -> None:
    """R10: an approved or submitted plan is frozen; changes go through an amendment."""
    if not plan.is_editable:
        raise FundRuleError(
            "R10",
            _("The plan is %(status)s and cannot be changed; start an amendment to change it."),
            params={"status": plan.get_status_display().lower()},
        )


def _record_transition(plan: AnnualPlan, *, actor, from_status: str, comment: str = "") -> None:
    PlanTransition.objects.create(
        plan=plan,
        from_status=from_status,
        to_status=plan.status,
        version=plan.version,
        actor=actor,
        comment=comment,
    )


def plan_edit_refusal(plan: AnnualPlan) -> FundRuleError | None:
    """Why the plan cannot be edited now (R7 history, R10 frozen), or None if it can."""
    try:
        ensure_year_writable(plan.fund_year.year)
        _ensure_editable(plan)
    except FundRuleError as refusal:
        return refusal
    return None


@transaction.atomic
def plan_create(
    *,
    actor,
    post: Post,
    fund_year: FundYear,
    narrative: str = "",
    history_import: bool = False,
) -> AnnualPlan:
    """Start the one annual plan of a post for a year (R6, R7, R10)."""
    post = _lock_post(post)
    ensure_year_writable(fund_year.year, history_import=history_import, field="fund_year")
    _ensure_participates(post, fund_year.year, field="fund_year")
    if AnnualPlan.objects.filter(post=post, fund_year=fund_year).exists():
        raise FundRuleError(
            "R10",
            _("The post already has an annual plan for %(year)s."),
            field="fund_year",
            params={"year": fund_year.year},
        )
    plan = AnnualPlan(post=post, fund_year=fund_year, narrative=narrative)
    _save(plan, actor)
    _record_transition(plan, actor=actor, from_status="", comment=_("Plan created."))
    return plan


@transaction.atomic
def plan_update(
    *, actor, plan: AnnualPlan, narrative: str, history_import: bool = False
) -> AnnualPlan:
    plan = _locked_plan(plan)
    ensure_year_writable(plan.fund_year.year, history_import=history_import)
    _ensure_editable(plan)
    plan.narrative = narrative
    _save(plan, actor)
    return plan


def _resolve_priority(value: Priority | str) -> Priority:
    """R3: only the 5+1 priorities exist; an unknown code is refused by name."""
    if isinstance(value, Priority):
        return value
    priority = Priority.objects.filter(code=value).first()
    if priority is None:
        raise FundRuleError(
            "R3",
            _("'%(code)s' is not one of the 5+1 thematic priorities."),
            field="priorities",
            params={"code": value},
        )
    return priority


@transaction.atomic
def plan_priorities_set(
    *,
    actor,
    plan: AnnualPlan,
    items: Sequence[tuple[Priority | str, object]],
    history_import: bool = False,
) -> list[PlanPriority]:
    """Replace a plan's chosen priorities and the money per priority (R2–R5, R7, R10)."""
    plan = _locked_plan(plan)
    year = plan.fund_year.year
    ensure_year_writable(year, history_import=history_import, field="priorities")
    _ensure_editable(plan)
    wanted = [(_resolve_priority(p), ensure_money(a, field="priorities")) for p, a in items]
    ensure_distinct_priorities([p.code for p, _amount in wanted], year=year)

    total = sum((amount for _priority, amount in wanted), ZERO)
    allocated = _allocated(plan.post, year)
    ensure_within(
        total=total,
        limit=allocated,
        field="priorities",
        message=_(
            "The plan divides %(total)s, more than the %(allocated)s allocated to the post "
            "for %(year)s."
        ),
        params={"total": eur(total), "allocated": eur(allocated), "year": year},
    )

    existing = {pp.priority_id: pp for pp in plan.plan_priorities.all()}
    wanted_ids = {p.pk for p, _amount in wanted}
    removed = [pp for pid, pp in existing.items() if pid not in wanted_ids]
    if removed and is_reformed_year(year):
        # R4: projects with money in this year must keep a chosen priority.
        in_use = (
            Project.objects.filter(
                post=plan.post,
                priority__in=[pp.priority_id for pp in removed],
                status__in=COUNTING_PROJECT_STATUSES,
                budget_lines__year=year,
            )
            .select_related("priority")
            .first()
        )
        if in_use is not None:
            raise FundRuleError(
                "R4",
                _(
                    "Project '%(project)s' has money for %(year)s under priority "
                    "'%(priority)s'; that priority cannot be dropped from the plan."
                ),
                field="priorities",
                params={"project": in_use.title, "year": year, "priority": in_use.priority},
            )
    for pp in removed:
        pp._history_user = actor
        pp.delete()
    free_slots = sorted({1, 2} - {pp.slot for pid, pp in existing.items() if pid in wanted_ids})
    result = []
    for priority, amount in wanted:
        pp = existing.get(priority.pk) or PlanPriority(
            plan=plan, priority=priority, slot=free_slots.pop(0)
        )
        pp.amount = amount
        _save(pp, actor)
        result.append(pp)
    _save(plan, actor)  # bumps updated_at
    return result


@transaction.atomic
def plan_priority_add(
    *, actor, plan: AnnualPlan, priority: Priority | str, amount
) -> list[PlanPriority]:
    """Add one chosen priority; reads the current choice only after taking the lock (R2)."""
    plan = _locked_plan(plan)
    current = [(pp.priority, pp.amount) for pp in plan.plan_priorities.select_related("priority")]
    return plan_priorities_set(actor=actor, plan=plan, items=[*current, (priority, amount)])


@transaction.atomic
def plan_withdraw(*, actor, plan: AnnualPlan) -> None:
    """Remove a plan that was never approved, e.g. before its post leaves the fund (R6, R10).

    Its history (django-simple-history) keeps what it said.
    """
    plan = _locked_plan(plan)
    year = plan.fund_year.year
    ensure_year_writable(year)
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.RETURNED):
        raise FundRuleError(
            "R10",
            _("Only a draft or returned plan can be withdrawn; this one is %(status)s."),
            params={"status": plan.get_status_display().lower()},
        )
    funded = Project.objects.filter(
        post=plan.post, status__in=COUNTING_PROJECT_STATUSES, budget_lines__year=year
    ).first()
    if funded is not None:
        raise FundRuleError(
            "R4",
            _("Project '%(project)s' has money in %(year)s under this plan's priorities."),
            params={"project": funded.title, "year": year},
        )
    for chosen in plan.plan_priorities.all():
        chosen._history_user = actor
        chosen.delete()
    plan._history_user = actor
    plan.delete()


# R10: the plan cycle. action: (allowed from, to, comment required)
_PLAN_TRANSITIONS = {
    "submit": ((PlanStatus.DRAFT, PlanStatus.RETURNED, PlanStatus.AMENDING), PlanStatus.SUBMITTED),
    "return": ((PlanStatus.SUBMITTED,), PlanStatus.RETURNED),
    "approve": ((PlanStatus.SUBMITTED,), PlanStatus.APPROVED),
    "amend": ((PlanStatus.APPROVED,), PlanStatus.AMENDING),
}
_ACTION_NAMES = {
    "submit": _("submitted"),
    "return": _("returned"),
    "approve": _("approved"),
    "amend": _("amended"),
}


@transaction.atomic
def plan_transition(
    *, actor, plan: AnnualPlan, action: str, comment: str = "", history_import: bool = False
) -> AnnualPlan:
    """Move a plan through the cycle (R10), recording who, when and why."""
    plan = _locked_plan(plan)
    ensure_year_writable(plan.fund_year.year, history_import=history_import)
    allowed_from, to_status = _PLAN_TRANSITIONS[action]
    if plan.status not in allowed_from:
        raise FundRuleError(
            "R10",
            _("A plan that is %(status)s cannot be %(action)s."),
            field="status",
            params={"status": plan.get_status_display().lower(), "action": _ACTION_NAMES[action]},
        )
    if action in ("return", "amend") and not comment.strip():
        raise FundRuleError(
            "R10", _("Say why: returning or amending a plan needs a comment."), field="comment"
        )
    if action == "submit":
        chosen = list(plan.plan_priorities.all())
        if not chosen:
            raise FundRuleError(
                "R2", _("Choose at least one priority before submitting."), field="priorities"
            )
        total = sum((pp.amount for pp in chosen), ZERO)
        allocated = _allocated(plan.post, plan.fund_year.year)
        ensure_within(
            total=total,
            limit=allocated,
            field="priorities",
            message=_("The plan divides %(total)s, more than the %(allocated)s allocated."),
            params={"total": eur(total), "allocated": eur(allocated)},
        )
    from_status = plan.status
    plan.status = to_status
    if action == "amend":
        plan.version += 1
    _save(plan, actor)
    _record_transition(plan, actor=actor, from_status=from_status, comment=comment)
    return plan


def plan_submit(*, actor, plan, comment: str = "", history_import: bool = False) -> AnnualPlan:
    return plan_transition(
        actor=actor, plan=plan, action="submit", comment=comment, history_import=history_import
    )


def plan_approve(*, actor, plan, comment: str = "", history_import: bool = False) -> AnnualPlan:
    return plan_transition(
        actor=actor, plan=plan, action="approve", comment=comment, history_import=history_import
    )


def plan_return(*, actor, plan, comment: str) -> AnnualPlan:
    return plan_transition(actor=actor, plan=plan, action="return", comment=comment)


def plan_amend(*, actor, plan, comment: str) -> AnnualPlan:
    return plan_transition(actor=actor, plan=plan, action="amend", comment=comment)


# --------------------------------------------------------------------------------------------
# Partners (R8, R11)


@transaction.atomic
def partner_save(
    *,
    actor,
    post: Post,
    name: str,
    partner_type: str,
    country: Country,
    sensitivity: str = Sensitivity.SENSITIVE,
    cleared_for_publication: bool = False,
    partner: Partner | None = None,
) -> Partner:
    """Create or update an implementing partner of a post; its type is required (R8)."""
    if partner_type not in PartnerType.values:
        raise FundRuleError(
            "R8",
            _("Give the partner's type: one of %(types)s."),
            field="partner_type",
            params={"types": ", ".join(PartnerType.values)},
        )
    if partner is not None:
        current_post_id = Partner.objects.values_list("post_id", flat=True).get(pk=partner.pk)
        # Lock both posts (in pk order) so no project of the old post can take the partner
        # while it moves.
        for post_id in sorted({current_post_id, post.pk}):
            _lock_post(post_id)
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        if partner.post_id != post.pk and partner.projects.exists():
            raise FundRuleError(
                "R11", _("A partner with projects stays with its post."), field="post"
            )
    else:
        partner = Partner()
    partner.post = post
    partner.name = name.strip()
    partner.partner_type = partner_type
    partner.country = country
    partner.sensitivity = sensitivity
    partner.cleared_for_publication = cleared_for_publication
    _save(partner, actor)
    return partner


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

    @classmethod
    def load(cls, post: Post, years: Iterable[int], *, exclude_project=None) -> _PostLedger:
        years = set(years)
        ledger = cls(post=post)
        ledger.allocated = dict(
            Allocation.objects.filter(post=post, fund_year__year__in=years).values_list(
                "fund_year__year", "amount"
            )
        )
        lines = BudgetLine.objects.filter(
            project__post=post, year__in=years, project__status__in=COUNTING_PROJECT_STATUSES
        )
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
        return ledger

    def add(
        self,
        *,
        priority: Priority,
        status: str,
        budget: Mapping[int, Decimal],
        changed_years: set[int],
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


def _clean_budget(budget: Mapping) -> dict[int, Decimal]:
    cleaned = {}
    for year, amount in budget.items():
        try:
            year = int(year)
        except (TypeError, ValueError) as exc:
            raise FundRuleError(
                "R9", _("'%(year)s' is not a year."), field="budget", params={"year": year}
            ) from exc
        cleaned[year] = ensure_money(amount, field="budget")
    return cleaned


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
        raise FundRuleError("R11", _("Unknown partner for this post."), field="partner")
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


@transaction.atomic
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


@transaction.atomic
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
    post = _lock_post(post)
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
        if spec.status not in ProjectStatus.values:
            raise FundRuleError("R9", _("Unknown project status."), field="status")
        if spec.status == ProjectStatus.CANCELLED:
            raise FundRuleError(
                "R9", _("A new project cannot start out cancelled."), field="status"
            )
        ensure_budget_years_in_period(budget, spec.start_date, spec.end_date)
        ledger.add(
            priority=spec.priority,
            status=spec.status,
            budget=_with_start_year(budget, spec.start_date),
            changed_years=set(budget),
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
            project.full_clean()
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
            _save(line, actor)
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


@transaction.atomic
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
    unknown = set(changes) - set(_PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"project_update() got unexpected fields: {sorted(unknown)}")
    post = _lock_post(project.post_id)
    project = Project.objects.select_for_update().get(pk=project.pk)
    original = Project(
        status=project.status, priority_id=project.priority_id, partner_id=project.partner_id
    )
    old_budget = dict(project.budget_lines.values_list("year", "amount"))
    new_budget = _clean_budget(budget) if budget is not None else dict(old_budget)
    for name, value in changes.items():
        setattr(project, name, value)
    results = (
        list(intended_results)
        if intended_results is not None
        else list(project.intended_results.all())
    )
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
    counts_before = original.status in COUNTING_PROJECT_STATUSES
    counts_after = project.status in COUNTING_PROJECT_STATUSES
    if (
        counts_before != counts_after
        or original.priority_id != project.priority_id
        or original.partner_id != project.partner_id
    ):
        # Such a change rewrites what every year's money was for: all years are touched
        # (R7 keeps pre-reform years as they were).
        changed_years |= set(old_budget) | set(new_budget)
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
    checked = _with_start_year(new_budget, project.start_date)
    ledger = _PostLedger.load(post, checked, exclude_project=project)
    ledger.add(
        priority=project.priority,
        status=project.status,
        budget=checked,
        changed_years=changed_years,
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
    _save(project, actor)
    if intended_results is not None:
        project.intended_results.set(results)
    for line in project.budget_lines.all():
        if line.year not in new_budget:
            line._history_user = actor
            line.delete()
        elif line.amount != new_budget[line.year]:
            line.amount = new_budget[line.year]
            _save(line, actor)
    for year in set(new_budget) - set(old_budget):
        _save(BudgetLine(project=project, year=year, amount=new_budget[year]), actor)
    return project


@transaction.atomic
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
    amount = ensure_money(amount, allow_zero=False)
    _lock_post(project.post_id)
    project = Project.objects.get(pk=project.pk)
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
    paid = _sum(project.disbursements.filter(date__year=date.year))
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
    _save(disbursement, actor)
    return disbursement


# --------------------------------------------------------------------------------------------
# Results (R13)


def _ensure_number(value, *, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise FundRuleError(
            "R13", _("'%(value)s' is not a number."), field=field, params={"value": value}
        ) from exc
    if isinstance(value, float) or not number.is_finite():
        raise FundRuleError("R13", _("Give an exact decimal number."), field=field)
    return number


@transaction.atomic
def indicator_save(
    *,
    actor,
    project: Project,
    intended_result: IntendedResult,
    name: str,
    unit: str,
    baseline,
    target,
    indicator: Indicator | None = None,
) -> Indicator:
    """An indicator measures a result the project serves (R13)."""
    _lock_post(project.post_id)
    if not project.intended_results.filter(pk=intended_result.pk).exists():
        raise FundRuleError(
            "R13",
            _("The project does not serve '%(result)s'; link the project to it first."),
            field="intended_result",
            params={"result": intended_result},
        )
    indicator = indicator or Indicator()
    indicator.project = project
    indicator.intended_result = intended_result
    indicator.name = name
    indicator.unit = unit
    indicator.baseline = _ensure_number(baseline, field="baseline")
    indicator.target = _ensure_number(target, field="target")
    _save(indicator, actor)
    return indicator


@transaction.atomic
def indicator_value_set(
    *, actor, indicator: Indicator, year: int, value, note: str = ""
) -> IndicatorValue:
    """R13: a reported value per year the project runs in."""
    project = indicator.project
    if not project.start_date.year <= year <= project.end_date.year:
        raise FundRuleError(
            "R13",
            _("%(year)s is outside the project period %(start)s–%(end)s."),
            field="year",
            params={
                "year": year,
                "start": project.start_date.year,
                "end": project.end_date.year,
            },
        )
    reported = IndicatorValue.objects.filter(indicator=indicator, year=year).first()
    reported = reported or IndicatorValue(indicator=indicator, year=year)
    reported.value = _ensure_number(value, field="value")
    reported.note = note
    _save(reported, actor)
    return reported


__all__ = [
    "ProjectSpec",
    "allocation_set",
    "disbursement_create",
    "fund_year_save",
    "indicator_save",
    "indicator_value_set",
    "partner_save",
    "plan_amend",
    "plan_approve",
    "plan_create",
    "plan_priorities_set",
    "plan_priority_add",
    "plan_return",
    "plan_submit",
    "plan_transition",
    "plan_update",
    "plan_withdraw",
    "project_create",
    "project_update",
    "projects_bulk_create",
]
