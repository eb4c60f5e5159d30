"""The post's annual report: what its year achieved against the intended results its plan
aimed at (R13), in the plan's cycle (R10).

The post writes a summary and, per aimed-at intended result, its progress; the figures beside
them (reported indicator values, money) are the selectors' (grants.selectors), not input.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from countries.models import Post
from fund.access import Action
from fund.checks import (
    REFORM_START_YEAR,
    FundRuleError,
    StatusConflict,
    ensure_text,
    invalid,
)
from fund.services import authorize, current_post_id, locked, save_validated, service
from grants.cycles import ANNUAL_REPORT_CYCLE, PLAN_IN_FORCE_STATUSES
from grants.models import (
    AnnualPlan,
    AnnualReport,
    FundYear,
    PlanAim,
    PlanStatus,
    ReportTransition,
    ResultProgress,
)
from grants.notifications import announce

from .base import ensure_participates, lock_fund_year, lock_post, resolve_intended_results
from .cycle import ensure_step_allowed, step_of


def _locked_report(
    report: AnnualReport, actor, action: Action, history_import: bool = False
) -> AnnualReport:
    """The report under its post's lock, read from the database, once the actor may act."""
    what = _("annual report")
    lock_post(current_post_id(AnnualReport, report, what=what, field="report"))
    report = locked(
        AnnualReport.objects.select_related("fund_year", "post"), report, what=what, field="report"
    )
    authorize(actor, action, report, what=what, field="report", history_import=history_import)
    return report


def _ensure_reformed(year: int, *, field: str | None = None) -> None:
    """R7: annual reports belong to the reformed fund; earlier years have none."""
    if year < REFORM_START_YEAR:
        raise FundRuleError(
            "R7",
            _("Annual reports exist for fund years from %(start)s; %(year)s is history."),
            field=field,
            params={"start": REFORM_START_YEAR, "year": year},
        )


def _ensure_editable(report: AnnualReport) -> None:
    """R10: a submitted or accepted report is frozen; a returned one is revised."""
    if not report.is_editable:
        raise StatusConflict(
            "R10",
            _("The annual report is %(status)s and cannot be changed."),
            params={"status": report.get_status_display().lower()},
        )


def annual_report_edit_refusal(report: AnnualReport) -> FundRuleError | None:
    """Why the report cannot be edited now (R10), or None if it can."""
    try:
        _ensure_editable(report)
    except FundRuleError as refusal:
        return refusal
    return None


def _ensure_plan_approved(report: AnnualReport) -> None:
    """R10, R13: the report speaks of the approved plan's aims. While the plan is being
    amended (or the amendment is with the ministry or returned), its aims may still change:
    the report waits until the plan is approved again."""
    status = (
        AnnualPlan.objects.filter(post=report.post_id, fund_year=report.fund_year_id)
        .values_list("status", flat=True)
        .first()
    )
    if status != PlanStatus.APPROVED:
        raise StatusConflict(
            "R10",
            _(
                "The annual plan %(year)s is being changed; the annual report waits until the "
                "plan is approved again."
            ),
            field="report",
            params={"year": report.fund_year.year},
        )


def _aimed_result_ids(report: AnnualReport) -> set[int]:
    """R13: what the year's plan aims at, per chosen priority."""
    return set(
        PlanAim.objects.filter(
            plan_priority__plan__post=report.post_id,
            plan_priority__plan__fund_year=report.fund_year_id,
        ).values_list("intended_result_id", flat=True)
    )


@service
def annual_report_create(
    *, actor, post: Post, fund_year: FundYear, summary: str = ""
) -> AnnualReport:
    """Start the one annual report of a post for a year, on its approved plan (R6, R7, R10)."""
    fund_year = lock_fund_year(fund_year)  # FundYear before Post, as everywhere
    post = lock_post(post)
    authorize(actor, Action.EDIT_ANNUAL_REPORT, post, what=_("post"), field="post")
    summary = ensure_text(summary, field="summary")
    _ensure_reformed(fund_year.year, field="fund_year")
    ensure_participates(post, fund_year.year, field="fund_year")
    plan_status = (
        AnnualPlan.objects.filter(post=post, fund_year=fund_year)
        .values_list("status", flat=True)
        .first()
    )
    if plan_status not in PLAN_IN_FORCE_STATUSES:
        raise FundRuleError(
            "R10",
            _("The annual plan %(year)s must be approved before the post reports on it."),
            field="fund_year",
            params={"year": fund_year.year},
        )
    if AnnualReport.objects.filter(post=post, fund_year=fund_year).exists():
        raise FundRuleError(
            "R10",
            _("The post already has an annual report for %(year)s."),
            field="fund_year",
            params={"year": fund_year.year},
        )
    report = AnnualReport(post=post, fund_year=fund_year, summary=summary)
    save_validated(report, actor)
    _record_transition(report, actor=actor, from_status="", comment=_("Report created."))
    return report


@service
def annual_report_update(
    *, actor, report: AnnualReport, summary: str | None = None, progress: Mapping | None = None
) -> AnnualReport:
    """Change the summary and/or the progress per intended result of an editable report.

    `progress` maps intended results (objects or codes) to their text; an empty text takes
    that result's progress out. Only results the year's plan aims at (R13)."""
    report = _locked_report(report, actor, Action.EDIT_ANNUAL_REPORT)
    _ensure_editable(report)
    _ensure_plan_approved(report)
    if summary is not None:
        report.summary = ensure_text(summary, field="summary")
    if progress is not None:
        if not isinstance(progress, Mapping):
            raise invalid(_("Give the progress per intended result."), field="progress")
        texts = [ensure_text(text, field="progress") for text in progress.values()]
        results = resolve_intended_results(list(progress), field="progress")
        aimed = _aimed_result_ids(report)
        unaimed = next((r for r in results if r.pk not in aimed), None)
        if unaimed is not None:
            raise FundRuleError(
                "R13",
                _(
                    "The annual plan %(year)s does not aim at '%(result)s'; the report speaks "
                    "of the plan's aims."
                ),
                field="progress",
                params={"result": unaimed, "year": report.fund_year.year},
            )
        current = {n.intended_result_id: n for n in report.progress.all()}
        for result, text in zip(results, texts, strict=True):
            written = current.get(result.pk)
            if not text.strip():
                if written is not None:
                    written._history_user = actor
                    written.delete()
                continue
            written = written or ResultProgress(report=report, intended_result=result)
            written.text = text
            save_validated(written, actor)
    save_validated(report, actor)  # bumps updated_at
    return report


def _ensure_complete(report: AnnualReport) -> None:
    """R13: a report goes to review with progress on every intended result the plan aims at."""
    written = set(report.progress.values_list("intended_result_id", flat=True))
    missing = (
        PlanAim.objects.filter(
            plan_priority__plan__post=report.post_id,
            plan_priority__plan__fund_year=report.fund_year_id,
        )
        .exclude(intended_result__in=written)
        .select_related("intended_result")
        .order_by("plan_priority__slot", "intended_result__position")
        .first()
    )
    if missing is not None:
        raise FundRuleError(
            "R13",
            _("Report the progress on '%(result)s', which the plan aims at, before submitting."),
            field="progress",
            params={"result": missing.intended_result},
        )


def _record_transition(
    report: AnnualReport, *, actor, from_status: str, comment: str = ""
) -> ReportTransition:
    return ReportTransition.objects.create(
        report=report,
        from_status=from_status,
        to_status=report.status,
        actor=actor,
        comment=comment,
    )


@service
def annual_report_transition(
    *, actor, report: AnnualReport, action: str, comment: str = ""
) -> AnnualReport:
    """Move an annual report through its cycle (R10), recording who, when and why; the
    people concerned hear of it by e-mail after the commit."""
    step = step_of(ANNUAL_REPORT_CYCLE, action)
    report = _locked_report(report, actor, step.action)
    comment = ensure_step_allowed(ANNUAL_REPORT_CYCLE, step, report, comment)
    if step.name in ("submit", "accept"):
        _ensure_plan_approved(report)
    if step.name == "submit":
        _ensure_complete(report)
    from_status, report.status = report.status, step.to_status
    save_validated(report, actor)
    transition = _record_transition(report, actor=actor, from_status=from_status, comment=comment)
    announce(transition, ANNUAL_REPORT_CYCLE, actor=actor)
    return report


def annual_report_submit(*, actor, report, comment: str = "") -> AnnualReport:
    return annual_report_transition(actor=actor, report=report, action="submit", comment=comment)


def annual_report_accept(*, actor, report, comment: str = "") -> AnnualReport:
    return annual_report_transition(actor=actor, report=report, action="accept", comment=comment)


def annual_report_return(*, actor, report, comment: str) -> AnnualReport:
    return annual_report_transition(actor=actor, report=report, action="return", comment=comment)
