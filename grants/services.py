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
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from countries.models import Country, Participation, Post
from priorities.models import IntendedResult, Priority

from .access import Action, ensure_allowed
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
    REFORM_START_YEAR,
    ZERO,
    FundRuleError,
    as_domain_error,
    ensure_budget_years_in_period,
    ensure_choice,
    ensure_date,
    ensure_distinct_priorities,
    ensure_instance,
    ensure_money,
    ensure_number,
    ensure_period,
    ensure_text,
    ensure_within,
    ensure_year,
    ensure_year_writable,
    eur,
    invalid,
    is_reformed_year,
)

# --------------------------------------------------------------------------------------------
# Helpers


def _save(instance, actor) -> None:
    """Validate (fields and constraints), record the acting user for the audit trail, save."""
    instance._history_user = actor
    try:
        instance.full_clean()
    except ValidationError as error:
        raise as_domain_error(error) from error
    instance.save()


def _authorize(actor, action: Action, obj=None, *, what=None, field=None, history_import=False):
    """The access policy first; a historical import (R7) is an action of its own."""
    ensure_allowed(actor, action, obj, what=what, field=field)
    if history_import:
        ensure_allowed(actor, Action.IMPORT_HISTORY)


def _pk(value, model, *, what, field: str | None = None) -> int:
    if isinstance(value, model) and value.pk is not None:
        return value.pk
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise FundRuleError("R11", _("Unknown %(object)s for this post."), field=field,
                        params={"object": what})  # fmt: skip


def _locked(queryset, value, *, what, field: str | None = None):
    """The row of `value` read from the database under a row lock, or the R11 "unknown"
    answer when it does not exist (any more)."""
    model = queryset.model
    row = (
        queryset.select_for_update(of=("self",))
        .filter(pk=_pk(value, model, what=what, field=field))
        .first()
    )
    if row is None:
        raise FundRuleError(
            "R11", _("Unknown %(object)s for this post."), field=field, params={"object": what}
        )
    return row


def _lock_fund_year(fund_year: FundYear | int) -> FundYear:
    return _locked(FundYear.objects.all(), fund_year, what=_("fund year"), field="fund_year")


def _lock_post(post: Post | int) -> Post:
    return _locked(Post.objects.all(), post, what=_("post"), field="post")


def _current_post_id(model, value, *, what, field=None, path="post_id") -> int:
    """The post an object belongs to, read from the database (not from the caller's copy)."""
    post_id = (
        model.objects.filter(pk=_pk(value, model, what=what, field=field))
        .values_list(path, flat=True)
        .first()
    )
    if post_id is None:
        raise FundRuleError(
            "R11", _("Unknown %(object)s for this post."), field=field, params={"object": what}
        )
    return post_id


def projects_in_year(post: Post | int, year: int):
    """The non-cancelled projects of a post that belong to a year (R4, R6): those with money in
    it and, for a project without any budget line yet, its start year."""
    post_id = post.pk if isinstance(post, Post) else post
    return (
        Project.objects.filter(post_id=post_id)
        .exclude(status=ProjectStatus.CANCELLED)
        .filter(Q(budget_lines__year=year) | Q(budget_lines__isnull=True, start_date__year=year))
        .distinct()
    )


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
def fund_year_save(*, actor, fund_year: FundYear, history_import: bool = False) -> FundYear:
    """Create or update a fund year; the envelope never drops below its allocations (R5)."""
    _authorize(actor, Action.SAVE_FUND_YEAR, history_import=history_import)
    if not isinstance(fund_year, FundYear):
        raise invalid(_("Give a fund year."), field="fund_year")
    fund_year.year = ensure_year(fund_year.year, rule="R7", field="year")
    ensure_year_writable(fund_year.year, history_import=history_import, field="year")
    fund_year.envelope = ensure_money(fund_year.envelope, field="envelope")
    fund_year.min_project_size = ensure_money(fund_year.min_project_size, field="min_project_size")
    ensure_date(fund_year.plan_submission_deadline, rule="R10", field="plan_submission_deadline")
    if fund_year.review_deadline is not None:
        ensure_date(fund_year.review_deadline, rule="R10", field="review_deadline")
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
def allocation_set(
    *,
    actor,
    post: Post,
    fund_year: FundYear,
    amount,
    note: str = "",
    history_import: bool = False,
) -> Allocation:
    """Set the budget of a post for a fund year (R5 envelope and commitments, R6, R7)."""
    fund_year = _lock_fund_year(fund_year)
    post = _lock_post(post)
    _authorize(actor, Action.ALLOCATE, post, what=_("post"), field="post",
               history_import=history_import)  # fmt: skip
    amount = ensure_money(amount)
    note = ensure_text(note, field="note")
    ensure_year_writable(fund_year.year, history_import=history_import, field="fund_year")
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


def _locked_plan(plan: AnnualPlan, actor, action: Action, *, history_import=False) -> AnnualPlan:
    """The plan under its post's lock, read from the database, once the actor may act on it."""
    what = _("annual plan")
    _lock_post(_current_post_id(AnnualPlan, plan, what=what, field="plan"))
    # of=("self",): lock only the plan row, not the joined FundYear (that would invert the
    # FundYear → Post lock order of allocation_set and deadlock against it).
    plan = _locked(AnnualPlan.objects.select_related("fund_year", "post"), plan, what=what,
                   field="plan")  # fmt: skip
    _authorize(actor, action, plan, what=what, field="plan", history_import=history_import)
    return plan


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
    _authorize(actor, Action.EDIT_PLAN, post, what=_("post"), field="post",
               history_import=history_import)  # fmt: skip
    fund_year = ensure_instance(fund_year, FundYear, field="fund_year")
    narrative = ensure_text(narrative, field="narrative")
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
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN, history_import=history_import)
    narrative = ensure_text(narrative, field="narrative")
    ensure_year_writable(plan.fund_year.year, history_import=history_import)
    _ensure_editable(plan)
    plan.narrative = narrative
    _save(plan, actor)
    return plan


def _resolve_priority(value: Priority | str) -> Priority:
    """R3: only the 5+1 priorities exist; an unknown code is refused by name."""
    if isinstance(value, Priority) and value.pk is not None:
        return value
    priority = Priority.objects.filter(code=value).first() if isinstance(value, str) else None
    if priority is None:
        raise FundRuleError(
            "R3",
            _("'%(code)s' is not one of the 5+1 thematic priorities."),
            field="priorities",
            params={"code": str(value)[:40]},
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
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN, history_import=history_import)
    year = plan.fund_year.year
    ensure_year_writable(year, history_import=history_import, field="priorities")
    _ensure_editable(plan)
    wanted = [_priority_item(item) for item in _as_list(items, field="priorities")]
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
    if removed:
        # R4: the projects of this year (with money in it, or starting in it without any
        # budget yet) must keep a chosen priority.
        in_use = (
            projects_in_year(plan.post, year)
            .filter(priority__in=[pp.priority_id for pp in removed])
            .select_related("priority")
            .first()
        )
        if in_use is not None:
            raise FundRuleError(
                "R4",
                _(
                    "Project '%(project)s' runs in %(year)s under priority "
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


def _as_list(items, *, field: str) -> list:
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise invalid(_("Give a list."), field=field)
    return list(items)


def _priority_item(item) -> tuple[Priority, Decimal]:
    """One (priority, amount) pair of a plan (R3, R5)."""
    if not isinstance(item, tuple | list) or len(item) != 2:
        raise invalid(_("Give each priority with its amount."), field="priorities")
    priority, amount = item
    return _resolve_priority(priority), ensure_money(amount, field="priorities")


@transaction.atomic
def plan_priority_add(
    *, actor, plan: AnnualPlan, priority: Priority | str, amount
) -> list[PlanPriority]:
    """Add one chosen priority; reads the current choice only after taking the lock (R2)."""
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN)
    current = [(pp.priority, pp.amount) for pp in plan.plan_priorities.select_related("priority")]
    return plan_priorities_set(actor=actor, plan=plan, items=[*current, (priority, amount)])


@transaction.atomic
def plan_withdraw(*, actor, plan: AnnualPlan) -> None:
    """Remove a plan that was never approved, e.g. before its post leaves the fund (R6, R10).

    Its history (django-simple-history) keeps what it said.
    """
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN)
    year = plan.fund_year.year
    ensure_year_writable(year)
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.RETURNED):
        raise FundRuleError(
            "R10",
            _("Only a draft or returned plan can be withdrawn; this one is %(status)s."),
            params={"status": plan.get_status_display().lower()},
        )
    funded = projects_in_year(plan.post, year).first()
    if funded is not None:
        raise FundRuleError(
            "R4",
            _("Project '%(project)s' runs in %(year)s under this plan's priorities."),
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
    if not isinstance(action, str) or action not in _PLAN_TRANSITIONS:
        raise FundRuleError(
            "R10",
            _("'%(action)s' is not a step of the plan cycle; one of %(actions)s."),
            field="action",
            params={"action": str(action)[:40], "actions": ", ".join(_PLAN_TRANSITIONS)},
        )
    needed = Action.SUBMIT_PLAN if action == "submit" else Action.REVIEW_PLAN
    plan = _locked_plan(plan, actor, needed, history_import=history_import)
    comment = ensure_text(comment, field="comment")
    ensure_year_writable(plan.fund_year.year, history_import=history_import)
    allowed_from, to_status = _PLAN_TRANSITIONS[action]
    if plan.status not in allowed_from:
        raise FundRuleError(
            "R10",
            _("A plan that is %(status)s cannot be %(action)s."),
            field="status",
            params={"status": plan.get_status_display().lower(), "action": _ACTION_NAMES[action]},
        )
    if action in ("return", "amend") and not comment:
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
    """Create or update an implementing partner of a post; its type is required (R8).

    Locks the post, so two writers can't both create the same name (one gets the refusal).
    """
    post_id = _pk(post, Post, what=_("post"), field="post")
    if partner is not None:
        what = _("partner")
        current_post_id = _current_post_id(Partner, partner, what=what, field="partner")
        # Lock both posts (in pk order) so no project of the old post can take the partner
        # while it moves.
        for locked_id in sorted({current_post_id, post_id}):
            _lock_post(locked_id)
        partner = _locked(Partner.objects.all(), partner, what=what, field="partner")
        _authorize(actor, Action.EDIT_PARTNER, partner, what=what, field="partner")
    post = _lock_post(post_id)
    _authorize(actor, Action.EDIT_PARTNER, post, what=_("post"), field="post")
    partner_type = ensure_choice(partner_type, PartnerType, rule="R8", field="partner_type")
    name = ensure_text(name, field="name", max_length=200, required=True)
    country = ensure_instance(country, Country, field="country")
    sensitivity = ensure_choice(sensitivity, Sensitivity, field="sensitivity")
    if not isinstance(cleared_for_publication, bool):
        raise invalid(_("Give yes or no."), field="cleared_for_publication")
    if partner is not None:
        if partner.post_id != post.pk and partner.projects.exists():
            raise FundRuleError(
                "R11", _("A partner with projects stays with its post."), field="post"
            )
    else:
        partner = Partner()
    namesake = Partner.objects.filter(post=post, name=name).exclude(pk=partner.pk).exists()
    if namesake:  # read under the post lock: two writers of one name can't both pass
        raise invalid(
            _("The post already has a partner named '%(name)s'."),
            field="name",
            params={"name": name},
        )
    partner.post = post
    partner.name = name
    partner.partner_type = partner_type
    partner.country = country
    partner.sensitivity = sensitivity
    partner.cleared_for_publication = cleared_for_publication
    _save(partner, actor)
    return partner


@transaction.atomic
def partner_delete(*, actor, partner: Partner) -> None:
    """Remove a partner that has no projects (those refer to it, R5 and R11)."""
    what = _("partner")
    _lock_post(_current_post_id(Partner, partner, what=what, field="partner"))
    partner = _locked(Partner.objects.all(), partner, what=what, field="partner")
    _authorize(actor, Action.EDIT_PARTNER, partner, what=what, field="partner")
    if partner.projects.exists():
        raise FundRuleError(
            "R11", _("A partner with projects stays: its projects refer to it."), field="partner"
        )
    partner._history_user = actor
    partner.delete()


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
    """{year: amount}: whole years (never 2027.9 read as 2027, R9) and money (R5)."""
    if not isinstance(budget, Mapping):
        raise invalid(_("Give the budget as amounts per calendar year."), field="budget")
    cleaned = {}
    for year, amount in budget.items():
        year = ensure_year(year, field="budget")
        if year in cleaned:
            raise FundRuleError(
                "R9", _("%(year)s is given twice."), field="budget", params={"year": year}
            )
        cleaned[year] = ensure_money(amount, field="budget")
    return cleaned


def _clean_results(intended_results) -> list[IntendedResult]:
    results = _as_list(intended_results, field="intended_results")
    for result in results:
        ensure_instance(result, IntendedResult, rule="R13", field="intended_results")
    return results


def _clean_spec(spec: ProjectSpec) -> ProjectSpec:
    """Every field of a new project checked for type and range before any rule (R9, R13)."""
    if not isinstance(spec, ProjectSpec):
        raise invalid(_("Give a project."), field="specs")
    return ProjectSpec(
        partner=ensure_instance(spec.partner, Partner, rule="R11", field="partner"),
        priority=_resolve_priority(spec.priority),
        title=ensure_text(spec.title, field="title", max_length=250, required=True),
        description=ensure_text(spec.description, field="description"),
        start_date=ensure_date(spec.start_date, field="start_date"),
        end_date=ensure_date(spec.end_date, field="end_date"),
        budget=spec.budget,
        status=ensure_choice(spec.status, ProjectStatus, rule="R9", field="status"),
        intended_results=_clean_results(spec.intended_results),
    )


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
    _authorize(actor, Action.EDIT_PROJECT, post, what=_("post"), field="post",
               history_import=history_import)  # fmt: skip
    specs = [_clean_spec(spec) for spec in _as_list(specs, field="specs")]
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


def _clean_project_changes(changes: Mapping) -> dict:
    """The changed fields of a project, each checked for type and range (R9, R11)."""
    checks = {
        "partner": lambda v: ensure_instance(v, Partner, rule="R11", field="partner"),
        "priority": _resolve_priority,
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
    what = _("project")
    post = _lock_post(_current_post_id(Project, project, what=what, field="project"))
    project = _locked(Project.objects.all(), project, what=what, field="project")
    _authorize(actor, Action.EDIT_PROJECT, project, what=what, field="project",
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
        _clean_results(intended_results)
        if intended_results is not None
        else list(project.intended_results.all())
    )
    if not history_import:
        _ensure_history_untouched(original, changes)
    for name, value in changes.items():
        setattr(project, name, value)
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
    _ensure_records_in_period(project)
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
    what = _("project")
    _lock_post(_current_post_id(Project, project, what=what, field="project"))
    project = _locked(Project.objects.all(), project, what=what, field="project")
    _authorize(actor, Action.PAY, project, what=what, field="project",
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


def _locked_project_for_results(
    actor, project: Project | int, *, history_import: bool, what=None
) -> Project:
    """The project under its post's lock, once the actor may report on it; a project wholly
    before the reform is history (R7)."""
    what = what or _("project")
    _lock_post(_current_post_id(Project, project, what=what, field="project"))
    project = _locked(Project.objects.all(), project, what=what, field="project")
    _authorize(actor, Action.REPORT_RESULTS, project, what=what, field="project",
               history_import=history_import)  # fmt: skip
    if project.end_date.year < REFORM_START_YEAR:
        ensure_year_writable(project.end_date.year, history_import=history_import,
                             field="project")  # fmt: skip
    return project


def _locked_indicator(actor, indicator: Indicator, *, history_import: bool) -> Indicator:
    what = _("indicator")
    project_id = _current_post_id(
        Indicator, indicator, what=what, field="indicator", path="project_id"
    )
    project = _locked_project_for_results(
        actor, project_id, history_import=history_import, what=what
    )
    indicator = _locked(Indicator.objects.all(), indicator, what=what, field="indicator")
    indicator.project = project
    return indicator


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
    history_import: bool = False,
) -> Indicator:
    """An indicator measures a result the project serves (R13); it stays with its project."""
    project = _locked_project_for_results(actor, project, history_import=history_import)
    if indicator is not None:
        indicator = _locked_indicator(actor, indicator, history_import=history_import)
        if indicator.project_id != project.pk:
            raise FundRuleError(
                "R13",
                _("An indicator stays with its project, with the values reported for it."),
                field="project",
            )
    intended_result = ensure_instance(
        intended_result, IntendedResult, rule="R13", field="intended_result"
    )
    name = ensure_text(name, field="name", max_length=250, required=True)
    unit = ensure_text(unit, field="unit", max_length=50, required=True)
    baseline = ensure_number(baseline, field="baseline")
    target = ensure_number(target, field="target")
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
    indicator.baseline = baseline
    indicator.target = target
    _save(indicator, actor)
    return indicator


@transaction.atomic
def indicator_delete(*, actor, indicator: Indicator, history_import: bool = False) -> None:
    """Remove an indicator and its reported values; none of them may lie before the reform
    (R7, R13)."""
    indicator = _locked_indicator(actor, indicator, history_import=history_import)
    for year in indicator.values.values_list("year", flat=True):
        ensure_year_writable(year, history_import=history_import, field="indicator")
    for reported in indicator.values.all():
        reported._history_user = actor
        reported.delete()
    indicator._history_user = actor
    indicator.delete()


def _checked_report_year(indicator: Indicator, year, *, history_import: bool) -> int:
    """R13: a value is reported for a whole year the project runs in; R7: not before 2026."""
    year = ensure_year(year, rule="R13", field="year")
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
    ensure_year_writable(year, history_import=history_import, field="year")
    return year


@transaction.atomic
def indicator_value_set(
    *, actor, indicator: Indicator, year: int, value, note: str = "", history_import=False
) -> IndicatorValue:
    """R13: a reported value per year the project runs in.

    Locks the post, so two writers of the same year queue: the second updates the first's row.
    """
    indicator = _locked_indicator(actor, indicator, history_import=history_import)
    year = _checked_report_year(indicator, year, history_import=history_import)
    value = ensure_number(value, field="value")
    note = ensure_text(note, field="note")
    reported = IndicatorValue.objects.filter(indicator=indicator, year=year).first()
    reported = reported or IndicatorValue(indicator=indicator, year=year)
    reported.value = value
    reported.note = note
    _save(reported, actor)
    return reported


@transaction.atomic
def indicator_value_delete(
    *, actor, indicator: Indicator, year: int, history_import: bool = False
) -> None:
    """Withdraw the value reported for a year (R7: not for a year before the reform)."""
    indicator = _locked_indicator(actor, indicator, history_import=history_import)
    year = ensure_year(year, rule="R13", field="year")
    ensure_year_writable(year, history_import=history_import, field="year")
    for reported in IndicatorValue.objects.filter(indicator=indicator, year=year):
        reported._history_user = actor
        reported.delete()


__all__ = [
    "ProjectSpec",
    "allocation_set",
    "disbursement_create",
    "fund_year_save",
    "indicator_delete",
    "indicator_save",
    "indicator_value_delete",
    "indicator_value_set",
    "partner_delete",
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
    "projects_in_year",
]
