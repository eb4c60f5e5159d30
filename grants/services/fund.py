"""Fund years and allocations: the envelope and each post's budget (R5, R6, R7)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from countries.models import Post
from fund.access import Action
from fund.checks import (
    FundRuleError,
    ensure_date,
    ensure_money,
    ensure_text,
    ensure_within,
    ensure_year,
    ensure_year_writable,
    eur,
    invalid,
)
from fund.services import authorize, save_validated, service
from grants.models import (
    Allocation,
    FundYear,
    PlanPriority,
)
from grants.selectors import project_money, sum_of

from .base import ensure_participates, lock_fund_year, lock_post

# --------------------------------------------------------------------------------------------
# Fund years and allocations


@service
def fund_year_save(*, actor, fund_year: FundYear, history_import: bool = False) -> FundYear:
    """Create or update a fund year; the envelope never drops below its allocations (R5)."""
    authorize(actor, Action.SAVE_FUND_YEAR, history_import=history_import)
    if not isinstance(fund_year, FundYear):
        raise invalid(_("Give a fund year."), field="fund_year")
    fund_year.year = ensure_year(fund_year.year, rule="R7", field="year")
    ensure_year_writable(fund_year.year, history_import=history_import, field="year")
    fund_year.envelope = ensure_money(fund_year.envelope, field="envelope")
    fund_year.min_project_size = ensure_money(fund_year.min_project_size, field="min_project_size")
    ensure_date(fund_year.plan_submission_deadline, rule="R10", field="plan_submission_deadline")
    if fund_year.review_deadline is not None:
        ensure_date(fund_year.review_deadline, rule="R10", field="review_deadline")
    if fund_year.report_deadline is not None:
        ensure_date(fund_year.report_deadline, rule="R10", field="report_deadline")
    if fund_year.pk:
        stored = lock_fund_year(fund_year)
        if stored.year != fund_year.year:
            # R1/R7 depend on the year, and budget lines are keyed by calendar year.
            raise FundRuleError(
                "R7",
                _("A fund year keeps its year (%(year)s); create a new fund year instead."),
                field="year",
                params={"year": stored.year},
            )
        allocated = sum_of(Allocation.objects.filter(fund_year=fund_year))
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
    save_validated(fund_year, actor, unguarded_key=fund_year.pk is None)
    return fund_year


@service
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
    fund_year = lock_fund_year(fund_year)
    post = lock_post(post)
    authorize(actor, Action.ALLOCATE, post, what=_("post"), field="post",
               history_import=history_import)  # fmt: skip
    amount = ensure_money(amount)
    note = ensure_text(note, field="note")
    ensure_year_writable(fund_year.year, history_import=history_import, field="fund_year")
    ensure_participates(post, fund_year.year, field="post")

    allocation = Allocation.objects.filter(post=post, fund_year=fund_year).first() or Allocation(
        post=post, fund_year=fund_year
    )
    others = sum_of(Allocation.objects.filter(fund_year=fund_year).exclude(pk=allocation.pk))
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
    plan_total = sum_of(PlanPriority.objects.filter(plan__post=post, plan__fund_year=fund_year))
    project_total = project_money(post, fund_year.year)
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
    save_validated(allocation, actor)
    return allocation
