"""Indicators and the values reported on them (R13)."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .projects import Project


class Indicator(models.Model):
    """R13: how a project measures its contribution to an intended result."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("project")
    )
    intended_result = models.ForeignKey(
        "priorities.IntendedResult",
        on_delete=models.PROTECT,
        related_name="indicators",
        verbose_name=_("intended result"),
    )
    name = models.CharField(_("name"), max_length=250)
    unit = models.CharField(_("unit"), max_length=50)
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    changed_at = models.DateTimeField(
        _("name changed at"),
        null=True,
        blank=True,
        default=timezone.now,
        editable=False,
        help_text=_("R11: when the name or unit last changed (published in full only if cleared)."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "name"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="indicator_name_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"


class IndicatorValue(models.Model):
    """R13: the value reported for an indicator in one year."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="values", verbose_name=_("indicator")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    note = models.TextField(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["indicator", "year"]
        verbose_name = _("reported value")
        verbose_name_plural = _("reported values")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "year"], name="indicator_value_one_per_year_r13"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.value}"
