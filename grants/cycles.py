"""The yearly cycle of the two documents a post hands in (R10), each defined once: its
statuses, the steps between them, who may take each (the access policy's action), which need
a comment, which are e-mailed, and in which statuses the post may still change the document.

The services take the steps (grants.services.plans, grants.services.annual_reports); the
selectors, the admin, the reports and the e-mails read these definitions, never a list of
statuses of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from fund.access import Action


class PlanStatus(models.TextChoices):
    """R10: the annual plan cycle."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    RETURNED = "returned", _("Returned for revision")
    APPROVED = "approved", _("Approved")
    AMENDING = "amending", _("Amendment in preparation")


class AnnualReportStatus(models.TextChoices):
    """R10: the annual report follows the plan's cycle."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    RETURNED = "returned", _("Returned for revision")
    ACCEPTED = "accepted", _("Accepted")


@dataclass(frozen=True)
class Step:
    """One step of a cycle: from which statuses, to which, who may take it, whether it must
    say why, and whether the people concerned hear of it by e-mail."""

    name: str
    allowed_from: frozenset[str]
    to_status: str
    action: Action
    past_tense: object  # lazy text: "submitted", "returned"…
    needs_comment: bool = False
    notifies: bool = False


@dataclass(frozen=True)
class Cycle:
    """A document kind's cycle: `editable` are the statuses in which the post may change
    the document (the others are frozen); the messages name the document."""

    kind: str
    statuses: type[models.TextChoices]
    steps: dict[str, Step]
    editable: frozenset[str]
    unknown_step: object  # lazy text with %(action)s and %(actions)s
    not_from_here: object  # lazy text with %(status)s and %(action)s
    needs_comment: object  # lazy text

    def steps_from(self, status: str) -> tuple[str, ...]:
        """The names of the steps that a document in `status` can take now."""
        return tuple(name for name, step in self.steps.items() if status in step.allowed_from)

    @property
    def notified(self) -> frozenset[str]:
        """The statuses whose arrival is e-mailed."""
        return frozenset(step.to_status for step in self.steps.values() if step.notifies)

    @property
    def owed(self) -> frozenset[str]:
        """The statuses in which the post still owes the document once its deadline passed:
        the editable ones, except an amendment (its approved version was handed in)."""
        amend = self.steps.get("amend")
        return self.editable - ({amend.to_status} if amend else set())

    @property
    def submitted(self) -> str:
        return self.steps["submit"].to_status


def _cycle(kind, statuses, steps, **texts) -> Cycle:
    return Cycle(kind=kind, statuses=statuses, steps={step.name: step for step in steps}, **texts)


_PLAN_EDITABLE = frozenset({PlanStatus.DRAFT, PlanStatus.RETURNED, PlanStatus.AMENDING})

PLAN_CYCLE = _cycle(
    "plan",
    PlanStatus,
    [
        Step(
            "submit",
            _PLAN_EDITABLE,
            PlanStatus.SUBMITTED,
            Action.SUBMIT_PLAN,
            _("submitted"),
            notifies=True,
        ),
        Step(
            "return",
            frozenset({PlanStatus.SUBMITTED}),
            PlanStatus.RETURNED,
            Action.REVIEW_PLAN,
            _("returned"),
            needs_comment=True,
            notifies=True,
        ),
        Step(
            "approve",
            frozenset({PlanStatus.SUBMITTED}),
            PlanStatus.APPROVED,
            Action.REVIEW_PLAN,
            _("approved"),
            notifies=True,
        ),
        # An amendment reopens an approved plan; the post hears of it when it is decided.
        Step(
            "amend",
            frozenset({PlanStatus.APPROVED}),
            PlanStatus.AMENDING,
            Action.REVIEW_PLAN,
            _("amended"),
            needs_comment=True,
        ),
    ],
    editable=_PLAN_EDITABLE,
    unknown_step=_("'%(action)s' is not a step of the plan cycle; one of %(actions)s."),
    not_from_here=_("A plan that is %(status)s cannot be %(action)s."),
    needs_comment=_("Say why: returning or amending a plan needs a comment."),
)
# A plan never approved can be withdrawn (R6, R10); an approved one is amended instead.
WITHDRAWABLE_PLAN_STATUSES = frozenset({PlanStatus.DRAFT, PlanStatus.RETURNED})
# A plan in force: approved, or approved and being amended. Its post reports on it (R13).
PLAN_IN_FORCE_STATUSES = frozenset({PlanStatus.APPROVED, PlanStatus.AMENDING})

_REPORT_EDITABLE = frozenset({AnnualReportStatus.DRAFT, AnnualReportStatus.RETURNED})

# R10: the annual report's cycle, the plan's without amendments.
ANNUAL_REPORT_CYCLE = _cycle(
    "annual_report",
    AnnualReportStatus,
    [
        Step(
            "submit",
            _REPORT_EDITABLE,
            AnnualReportStatus.SUBMITTED,
            Action.SUBMIT_ANNUAL_REPORT,
            _("submitted"),
            notifies=True,
        ),
        Step(
            "return",
            frozenset({AnnualReportStatus.SUBMITTED}),
            AnnualReportStatus.RETURNED,
            Action.REVIEW_ANNUAL_REPORT,
            _("returned"),
            needs_comment=True,
            notifies=True,
        ),
        Step(
            "accept",
            frozenset({AnnualReportStatus.SUBMITTED}),
            AnnualReportStatus.ACCEPTED,
            Action.REVIEW_ANNUAL_REPORT,
            _("accepted"),
            notifies=True,
        ),
    ],
    editable=_REPORT_EDITABLE,
    unknown_step=_("'%(action)s' is not a step of the annual report's cycle; one of %(actions)s."),
    not_from_here=_("An annual report that is %(status)s cannot be %(action)s."),
    needs_comment=_("Say why: returning an annual report needs a comment."),
)
# A report handed in: submitted or accepted. What it says counts (R13).
HANDED_IN_REPORT_STATUSES = frozenset({AnnualReportStatus.SUBMITTED, AnnualReportStatus.ACCEPTED})
