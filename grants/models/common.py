"""What the grants tables share: money columns, the non-negative check, and the recorded
step (who, when, why) of decisions and cycle transitions (R5, R10, R11).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def money_field(verbose_name, **kwargs):
    """R5: EUR with cents, never a float."""
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def non_negative(field: str, name: str):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}),
        name=name,
        violation_error_message=_("R5: amounts cannot be negative."),
    )


class RecordedStep(models.Model):
    """Who took a step, when and why (R10, R11): what every recorded decision shares."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        abstract = True


class CycleTransition(RecordedStep):
    """R10: a step of a yearly cycle (annual plan, annual report) records who, when and why.

    Each document keeps its own table of steps (PlanTransition, ReportTransition), with its
    own statuses; this is what they share."""

    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        # The statuses' labels in the reader's language, not their codes (issue 20).
        labels = dict(self._meta.get_field("to_status").flatchoices)
        before = labels.get(self.from_status, self.from_status) if self.from_status else "—"
        return f"{before} → {labels.get(self.to_status, self.to_status)}"
