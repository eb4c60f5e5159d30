"""The yearly cycle that annual plans and annual reports share (R10): a document moves
between statuses in named steps, each step allowed from some statuses only, some needing a
comment, and every step recorded with who, when and why.

A document kind describes its cycle once (`Cycle`); `cycle_step` runs any step of any cycle,
so the plan and the report follow one implementation of R10.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fund.access import Action
from fund.checks import FundRuleError, StatusConflict, ensure_text, ensure_year_writable
from fund.services import save_validated


@dataclass(frozen=True)
class Step:
    """One step of a cycle: from which statuses, to which, who may take it (the access
    policy's action), and whether it must say why."""

    allowed_from: tuple[str, ...]
    to_status: str
    action: Action
    past_tense: object  # lazy text: "submitted", "returned"…
    needs_comment: bool = False


@dataclass(frozen=True)
class Cycle:
    """A document kind's cycle.

    `lock(document, actor, action, history_import)` returns the document read again under its
    post's lock once the actor may take the action; `checks` run per step before the status
    changes (e.g. a plan needs a priority before it is submitted); `on_step` runs after the
    status changed and before it is saved (e.g. an amendment raises the plan's version);
    `record` writes the transition row; `announce` queues what others should hear of it.
    """

    steps: Mapping[str, Step]
    lock: Callable
    record: Callable
    unknown_step: object  # lazy text with %(action)s and %(actions)s
    not_from_here: object  # lazy text with %(status)s and %(action)s
    needs_comment: object  # lazy text
    checks: Mapping[str, Callable] = field(default_factory=dict)
    on_step: Callable | None = None
    announce: Callable | None = None


def cycle_step(
    cycle: Cycle, *, actor, document, action: str, comment: str = "", history_import=False
):
    """Take one step of a document's cycle (R10), recording who, when and why."""
    if not isinstance(action, str) or action not in cycle.steps:
        raise FundRuleError(
            "R10",
            cycle.unknown_step,
            field="action",
            params={"action": str(action)[:40], "actions": ", ".join(cycle.steps)},
        )
    step = cycle.steps[action]
    document = cycle.lock(document, actor, step.action, history_import)
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
    check = cycle.checks.get(action)
    if check is not None:
        check(document)
    from_status = document.status
    document.status = step.to_status
    if cycle.on_step is not None:
        cycle.on_step(document, action)
    save_validated(document, actor)
    transition = cycle.record(document, actor=actor, from_status=from_status, comment=comment)
    if cycle.announce is not None:
        cycle.announce(transition, actor=actor)
    return document
