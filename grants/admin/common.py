"""What the grants admin pages share: the comment form of a cycle step, the ministry's
decisions a status allows (R10), and the admin that saves through the services and keeps
history.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

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


class ReadableHistory(HistoricalRecordContextHelper):
    """A change in the history as the reader says it (issue 20): a status by its label, a
    related object by its name, yes/no, a date and an amount as the language writes them,
    an empty value as "—" — never a code, an id or "None"."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if isinstance(field, models.ManyToManyField):
            return super().prepare_delta_change_value(change, value)
        if value is None or value == "":
            return "—"
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, models.BooleanField):
            return gettext("Yes") if value else gettext("No")
        if field.is_relation:
            related = field.related_model._default_manager.filter(pk=value).first()
            return str(related) if related is not None else "—"
        return formats.localize(value, use_l10n=True)


class ServiceHistoryAdmin(ServiceAdmin, SimpleHistoryAdmin):
    """Service-backed admin with the audit history (who changed what) one click away.

    The history is for reading: a "revert" would save an old version around the services
    (and their rules), so it is switched off (SIMPLE_HISTORY_REVERT_DISABLED) and refused.
    """

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistory(self.model, historical_record)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
