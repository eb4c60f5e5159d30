"""Taking a step of a yearly cycle (R10), shared by the plan and the annual report: the step
must exist, the year must be writable, the document must be in a status the step starts from,
and a step that needs a comment must have one. The cycles themselves are defined once in
grants.cycles; each document's service takes its steps top to bottom (plan_transition,
annual_report_transition).
"""

from __future__ import annotations

from fund.checks import FundRuleError, StatusConflict, ensure_text, ensure_year_writable
from grants.cycles import Cycle, Step


def step_of(cycle: Cycle, action) -> Step:
    """The named step of the cycle, or the R10 refusal listing the steps there are."""
    if not isinstance(action, str) or action not in cycle.steps:
        raise FundRuleError(
            "R10",
            cycle.unknown_step,
            field="action",
            params={"action": str(action)[:40], "actions": ", ".join(cycle.steps)},
        )
    return cycle.steps[action]


def ensure_step_allowed(
    cycle: Cycle, step: Step, document, comment, *, history_import: bool = False
) -> str:
    """R7, R10: refuse the step unless the document (read under its lock) may take it now;
    returns the comment, checked."""
    comment = ensure_text(comment, field="comment")
    ensure_year_writable(document.fund_year.year, history_import=history_import)
    if document.status not in step.allowed_from:
        raise StatusConflict(
            "R10",
            cycle.not_from_here,
            field="status",
            params={"status": document.get_status_display().lower(), "action": step.past_tense},
        )
    if step.needs_comment and not comment:
        raise FundRuleError("R10", cycle.needs_comment, field="comment")
    return comment
