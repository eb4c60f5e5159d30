"""What the grants admin pages share: the comment form of a cycle step, the ministry's
decisions a status allows (R10), and the admin that saves through the services and keeps
history.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from fund.access import Action
from fund.admin import (
    ServiceAdmin,
)


class TransitionCommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("Recorded with the transition: who, when and why (R10)."),
    )


def reviewer_steps(cycle, status: str) -> list[str]:
    """The ministry's decisions a document in `status` allows (R10), the one that needs no
    explanation (approve, accept) first."""
    decisions = [
        name
        for name in cycle.steps_from(status)
        if cycle.steps[name].action in (Action.REVIEW_PLAN, Action.REVIEW_ANNUAL_REPORT)
    ]
    return sorted(decisions, key=lambda name: cycle.steps[name].needs_comment)


class ServiceHistoryAdmin(ServiceAdmin, SimpleHistoryAdmin):
    """Service-backed admin with the audit history (who changed what) one click away.

    The history is for reading: a "revert" would save an old version around the services
    (and their rules), so it is switched off (SIMPLE_HISTORY_REVERT_DISABLED) and refused.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
