"""Annual plans: the chosen priorities and their money, and the plan cycle (R2–R7, R10)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from countries.models import Post
from fund.access import Action
from fund.checks import (
    ZERO,
    FundRuleError,
    StatusConflict,
    ensure_distinct_priorities,
    ensure_money,
    ensure_text,
    ensure_within,
    ensure_year_writable,
    eur,
    invalid,
)
from fund.services import authorize, current_post_id, locked, save_validated, service
from grants.cycles import HANDED_IN_REPORT_STATUSES, PLAN_CYCLE, WITHDRAWABLE_PLAN_STATUSES
from grants.models import (
    AnnualPlan,
    AnnualReport,
    FundYear,
    PlanAim,
    PlanPriority,
    PlanTransition,
    Project,
    ResultProgress,
)
from grants.notifications import announce
from grants.selectors import allocated_to
from priorities.models import IntendedResult, Priority

from .base import (
    as_list,
    ensure_participates,
    lock_fund_year,
    lock_post,
    resolve_intended_results,
    resolve_priority,
)
from .cycle import ensure_step_allowed, step_of

# --------------------------------------------------------------------------------------------
# Annual plans (R2, R3, R5, R7, R10)


@dataclass(frozen=True)
class ChosenPriority:
    """One priority a plan chooses (R2, R3), the money planned for it (R5) and the intended
    results it aims at (R13): `aims=None` keeps the aims it has (a newly chosen priority aims
    at all of its intended results); a list replaces them."""

    priority: Priority | str
    amount: Decimal | int | str
    aims: Sequence[IntendedResult | str] | None = None


def _locked_plan(plan: AnnualPlan, actor, action: Action, *, history_import=False) -> AnnualPlan:
    """The plan under its post's lock, read from the database, once the actor may act on it."""
    what = _("annual plan")
    lock_post(current_post_id(AnnualPlan, plan, what=what, field="plan"))
    # of=("self",): lock only the plan row, not the joined FundYear (that would invert the
    # FundYear → Post lock order of allocation_set and deadlock against it).
    plan = locked(AnnualPlan.objects.select_related("fund_year", "post"), plan, what=what,
                   field="plan")  # fmt: skip
    authorize(actor, action, plan, what=what, field="plan", history_import=history_import)
    return plan


def _ensure_editable(plan: AnnualPlan) -> None:
    """R10: an approved or submitted plan is frozen; changes go through an amendment."""
    if not plan.is_editable:
        raise StatusConflict(
            "R10",
            _("The plan is %(status)s and cannot be changed; start an amendment to change it."),
            params={"status": plan.get_status_display().lower()},
        )


def _record_transition(
    plan: AnnualPlan, *, actor, from_status: str, comment: str = ""
) -> PlanTransition:
    return PlanTransition.objects.create(
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


@service
def plan_create(
    *,
    actor,
    post: Post,
    fund_year: FundYear,
    narrative: str = "",
    history_import: bool = False,
) -> AnnualPlan:
    """Start the one annual plan of a post for a year (R6, R7, R10)."""
    # FundYear before Post, as everywhere: the new plan's reference to its fund year waits for
    # a writer holding that row (allocation_set), which must not wait for our Post lock.
    fund_year = lock_fund_year(fund_year)
    post = lock_post(post)
    authorize(actor, Action.EDIT_PLAN, post, what=_("post"), field="post",
               history_import=history_import)  # fmt: skip
    narrative = ensure_text(narrative, field="narrative")
    ensure_year_writable(fund_year.year, history_import=history_import, field="fund_year")
    ensure_participates(post, fund_year.year, field="fund_year")
    if AnnualPlan.objects.filter(post=post, fund_year=fund_year).exists():
        raise FundRuleError(
            "R10",
            _("The post already has an annual plan for %(year)s."),
            field="fund_year",
            params={"year": fund_year.year},
        )
    plan = AnnualPlan(post=post, fund_year=fund_year, narrative=narrative)
    save_validated(plan, actor)
    # A new draft is no news to anyone: only later steps are announced.
    _record_transition(plan, actor=actor, from_status="", comment=_("Plan created."))
    return plan


@service
def plan_update(
    *, actor, plan: AnnualPlan, narrative: str, history_import: bool = False
) -> AnnualPlan:
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN, history_import=history_import)
    narrative = ensure_text(narrative, field="narrative")
    ensure_year_writable(plan.fund_year.year, history_import=history_import)
    _ensure_editable(plan)
    plan.narrative = narrative
    save_validated(plan, actor)
    return plan


@service
def plan_priorities_set(
    *,
    actor,
    plan: AnnualPlan,
    items: Sequence[ChosenPriority],
    history_import: bool = False,
) -> list[PlanPriority]:
    """Replace a plan's chosen priorities, the money per priority and, where given, the
    intended results it aims at per priority (R2–R5, R7, R10, R13).

    Without `aims`, a priority keeps its aims; a newly chosen one aims at all of its intended
    results until the post narrows them."""
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN, history_import=history_import)
    year = plan.fund_year.year
    ensure_year_writable(year, history_import=history_import, field="priorities")
    _ensure_editable(plan)
    wanted = [_priority_item(item) for item in as_list(items, field="priorities")]
    ensure_distinct_priorities([p.code for p, _amount, _aims in wanted], year=year)

    total = sum((amount for _priority, amount, _aims in wanted), ZERO)
    allocated = allocated_to(plan.post, year)
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

    existing = {pp.priority_id: pp for pp in plan.plan_priorities.prefetch_related("aims")}
    wanted_ids = {p.pk for p, _amount, _aims in wanted}
    removed = [pp for pid, pp in existing.items() if pid not in wanted_ids]
    if removed:
        # R4: the projects of this year (with money in it, or starting in it without any
        # budget yet) must keep a chosen priority.
        in_use = (
            Project.objects.filter(post=plan.post_id)
            .of_year(year)
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
    aims_before = {aim.intended_result_id for pp in existing.values() for aim in pp.aims.all()}
    aims_after = set()
    for priority, _amount, aims in wanted:
        if aims is not None:
            aims_after |= {result.pk for result in aims}
        elif priority.pk in existing:
            aims_after |= {aim.intended_result_id for aim in existing[priority.pk].aims.all()}
    _ensure_aims_not_in_use(plan, aims_before - aims_after)
    for pp in removed:
        pp._history_user = actor
        pp.delete()
    free_slots = sorted({1, 2} - {pp.slot for pid, pp in existing.items() if pid in wanted_ids})
    result = []
    for priority, amount, aims in wanted:
        pp = existing.get(priority.pk)
        if pp is None:
            pp = PlanPriority(plan=plan, priority=priority, slot=free_slots.pop(0))
            aims = aims if aims is not None else list(priority.intended_results.all())
        pp.amount = amount
        save_validated(pp, actor)
        if aims is not None:
            _set_aims(pp, aims, actor)
        result.append(pp)
    _ensure_no_aim_added_after_report(plan, aims_before)
    save_validated(plan, actor)  # bumps updated_at
    return result


def _ensure_no_aim_added_after_report(plan: AnnualPlan, aims_before: set[int]) -> None:
    """R13: once the year's annual report is with the ministry (submitted or accepted), the
    plan gains no aim the report could not have spoken of."""
    aims_now = set(
        PlanAim.objects.filter(plan_priority__plan=plan).values_list(
            "intended_result_id", flat=True
        )
    )
    if not aims_now - aims_before:
        return
    report = AnnualReport.objects.filter(
        post=plan.post_id,
        fund_year=plan.fund_year_id,
        status__in=HANDED_IN_REPORT_STATUSES,
    ).first()
    if report is not None:
        raise FundRuleError(
            "R13",
            _(
                "The annual report on %(year)s is %(status)s; the plan can aim at a new "
                "intended result only after the report is returned."
            ),
            field="priorities",
            params={"year": plan.fund_year.year, "status": report.get_status_display().lower()},
        )


def _set_aims(chosen: PlanPriority, aims: list[IntendedResult], actor) -> None:
    current = {aim.intended_result_id: aim for aim in chosen.aims.all()}
    wanted = {result.pk for result in aims}
    for result_id, aim in current.items():
        if result_id not in wanted:
            aim._history_user = actor
            aim.delete()
    for result in aims:
        if result.pk not in current:
            save_validated(PlanAim(plan_priority=chosen, intended_result=result), actor)


def _ensure_aims_not_in_use(plan: AnnualPlan, dropped: set[int]) -> None:
    """R13, the plan's side: an intended result that a project of the year serves, or that
    the year's annual report speaks of, stays among the plan's aims."""
    if not dropped:
        return
    year = plan.fund_year.year
    project = (
        Project.objects.filter(post=plan.post_id)
        .of_year(year)
        .filter(intended_results__in=dropped)
        .prefetch_related("intended_results")
        .first()
    )
    if project is not None:
        served = next(r for r in project.intended_results.all() if r.pk in dropped)
        raise FundRuleError(
            "R13",
            _(
                "Project '%(project)s' serves '%(result)s' in %(year)s; the plan keeps aiming "
                "at it."
            ),
            field="priorities",
            params={"project": project.title, "result": served, "year": year},
        )
    narrative = (
        ResultProgress.objects.filter(
            report__post=plan.post_id, report__fund_year=plan.fund_year, intended_result__in=dropped
        )
        .select_related("intended_result")
        .first()
    )
    if narrative is not None:
        raise FundRuleError(
            "R13",
            _("The annual report %(year)s reports on '%(result)s'; the plan keeps aiming at it."),
            field="priorities",
            params={"result": narrative.intended_result, "year": year},
        )


def _priority_item(item) -> tuple[Priority, Decimal, list[IntendedResult] | None]:
    """One chosen priority of a plan, checked and read from the database (R3, R5, R13)."""
    if not isinstance(item, ChosenPriority):
        raise invalid(_("Give each priority with its amount."), field="priorities")
    priority = resolve_priority(item.priority)
    amount = ensure_money(item.amount, field="priorities")
    if item.aims is None:
        return priority, amount, None
    results = resolve_intended_results(item.aims, field="priorities")
    if len({result.pk for result in results}) != len(results):
        raise FundRuleError("R13", _("Name each intended result once."), field="priorities")
    foreign = next((r for r in results if r.priority_id != priority.pk), None)
    if foreign is not None:
        raise FundRuleError(
            "R13",
            _("Intended result '%(result)s' belongs to another priority than '%(priority)s'."),
            field="priorities",
            params={"result": foreign, "priority": priority},
        )
    return priority, amount, results


@service
def plan_priority_add(
    *, actor, plan: AnnualPlan, priority: Priority | str, amount, aims=None
) -> list[PlanPriority]:
    """Add one chosen priority; reads the current choice only after taking the lock (R2).

    The current priorities keep their aims; the new one aims at `aims`, or at all of its
    intended results when none are named (R13)."""
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN)
    current = [
        ChosenPriority(pp.priority, pp.amount)
        for pp in plan.plan_priorities.select_related("priority")
    ]
    added = ChosenPriority(priority, amount, aims)
    return plan_priorities_set(actor=actor, plan=plan, items=[*current, added])


@service
def plan_withdraw(*, actor, plan: AnnualPlan) -> None:
    """Remove a plan that was never approved, e.g. before its post leaves the fund (R6, R10).

    Its history (django-simple-history) keeps what it said.
    """
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN)
    year = plan.fund_year.year
    ensure_year_writable(year)
    if plan.status not in WITHDRAWABLE_PLAN_STATUSES:
        raise StatusConflict(
            "R10",
            _("Only a draft or returned plan can be withdrawn; this one is %(status)s."),
            params={"status": plan.get_status_display().lower()},
        )
    has_report = AnnualReport.objects.filter(post=plan.post_id, fund_year=plan.fund_year_id)
    if plan.version > 1 or has_report.exists():
        # A returned amendment was approved before, and a report may speak of it (R13).
        raise StatusConflict(
            "R10",
            _(
                "This plan was approved before (or its year has an annual report); an amendment "
                "is revised and submitted again, not withdrawn."
            ),
        )
    funded = Project.objects.filter(post=plan.post_id).of_year(year).first()
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


def _ensure_submittable(plan: AnnualPlan) -> None:
    """A plan goes to review with a priority (R2), aims for each (R13), within R5."""
    chosen = list(plan.plan_priorities.select_related("priority"))
    if not chosen:
        raise FundRuleError(
            "R2", _("Choose at least one priority before submitting."), field="priorities"
        )
    aimless = next((pp for pp in chosen if not pp.aims.exists()), None)
    if aimless is not None:
        raise FundRuleError(
            "R13",
            _("Name the intended results of '%(priority)s' that the post aims at this year."),
            field="priorities",
            params={"priority": aimless.priority},
        )
    total = sum((pp.amount for pp in chosen), ZERO)
    allocated = allocated_to(plan.post, plan.fund_year.year)
    ensure_within(
        total=total,
        limit=allocated,
        field="priorities",
        message=_("The plan divides %(total)s, more than the %(allocated)s allocated."),
        params={"total": eur(total), "allocated": eur(allocated)},
    )


@service
def plan_transition(
    *, actor, plan: AnnualPlan, action: str, comment: str = "", history_import: bool = False
) -> AnnualPlan:
    """Move a plan through its cycle (R10), recording who, when and why; the people concerned
    hear of it by e-mail after the commit."""
    step = step_of(PLAN_CYCLE, action)
    plan = _locked_plan(plan, actor, step.action, history_import=history_import)
    comment = ensure_step_allowed(PLAN_CYCLE, step, plan, comment, history_import=history_import)
    if step.name == "submit":
        _ensure_submittable(plan)
    from_status, plan.status = plan.status, step.to_status
    if step.name == "amend":
        plan.version += 1  # an amendment is the plan's next version
    save_validated(plan, actor)
    transition = _record_transition(plan, actor=actor, from_status=from_status, comment=comment)
    announce(transition, PLAN_CYCLE, actor=actor)
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
