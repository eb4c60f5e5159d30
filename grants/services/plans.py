"""Annual plans: the chosen priorities and their money, and the plan cycle (R2–R7, R10)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from countries.models import Post
from grants.access import Action
from grants.models import (
    AnnualPlan,
    FundYear,
    PlanPriority,
    PlanStatus,
    PlanTransition,
)
from grants.rules import (
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
from priorities.models import Priority

from .base import (
    _allocated,
    _as_list,
    _current_post_id,
    _ensure_participates,
    _lock_fund_year,
    _lock_post,
    _locked,
    _resolve_priority,
    authorize,
    projects_in_year,
    save_validated,
    service,
)

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


def _record_transition(plan: AnnualPlan, *, actor, from_status: str, comment: str = "") -> None:
    from grants.notifications import announce

    transition = PlanTransition.objects.create(
        plan=plan,
        from_status=from_status,
        to_status=plan.status,
        version=plan.version,
        actor=actor,
        comment=comment,
    )
    announce(transition, actor=actor)  # e-mails, after the commit (R10)


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
    fund_year = _lock_fund_year(fund_year)
    post = _lock_post(post)
    authorize(actor, Action.EDIT_PLAN, post, what=_("post"), field="post",
               history_import=history_import)  # fmt: skip
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
    save_validated(plan, actor)
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
        save_validated(pp, actor)
        result.append(pp)
    save_validated(plan, actor)  # bumps updated_at
    return result


def _priority_item(item) -> tuple[Priority, Decimal]:
    """One (priority, amount) pair of a plan (R3, R5)."""
    if not isinstance(item, tuple | list) or len(item) != 2:
        raise invalid(_("Give each priority with its amount."), field="priorities")
    priority, amount = item
    return _resolve_priority(priority), ensure_money(amount, field="priorities")


@service
def plan_priority_add(
    *, actor, plan: AnnualPlan, priority: Priority | str, amount
) -> list[PlanPriority]:
    """Add one chosen priority; reads the current choice only after taking the lock (R2)."""
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN)
    current = [(pp.priority, pp.amount) for pp in plan.plan_priorities.select_related("priority")]
    return plan_priorities_set(actor=actor, plan=plan, items=[*current, (priority, amount)])


@service
def plan_withdraw(*, actor, plan: AnnualPlan) -> None:
    """Remove a plan that was never approved, e.g. before its post leaves the fund (R6, R10).

    Its history (django-simple-history) keeps what it said.
    """
    plan = _locked_plan(plan, actor, Action.EDIT_PLAN)
    year = plan.fund_year.year
    ensure_year_writable(year)
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.RETURNED):
        raise StatusConflict(
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


@service
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
        raise StatusConflict(
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
    save_validated(plan, actor)
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
