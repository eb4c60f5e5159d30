"""Implementing partners, their sensitivity and the ministry's decisions on publishing them
(R8, R11).
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .common import RecordedStep


class PartnerType(models.TextChoices):
    """R8: eligible implementing partners."""

    LOCAL_CSO = "local_cso", _("Local civil-society organisation")
    NHRI = "nhri", _("National human rights institution")
    STATE_INSTITUTION = "state_institution", _("Other state institution")
    INTERNATIONAL_NGO = "international_ngo", _("International NGO")
    MULTILATERAL = "multilateral", _("Multilateral organisation")


class Sensitivity(models.TextChoices):
    """R11: how carefully a partner's identity must be handled."""

    NORMAL = "normal", _("Normal")
    SENSITIVE = "sensitive", _("Sensitive")
    HIGH = "high", _("Highly sensitive (safety risk)")


class Clearance(models.TextChoices):
    """R11: where a partner stands on publication. Only the ministry (a fund manager) grants
    or refuses; a post may only ask."""

    NOT_REQUESTED = "not_requested", _("Not requested")
    REQUESTED = "requested", _("Requested by the post")
    GRANTED = "granted", _("Cleared by the ministry")
    REFUSED = "refused", _("Refused by the ministry")


# R11: the order of sensitivity; lowering it is the ministry's decision, raising anyone's.
SENSITIVITY_RANK = {Sensitivity.NORMAL: 0, Sensitivity.SENSITIVE: 1, Sensitivity.HIGH: 2}


class Partner(models.Model):
    """An implementing partner, visible only to the post that funds it (R11)."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    post = models.ForeignKey(
        "countries.Post", on_delete=models.PROTECT, related_name="partners", verbose_name=_("post")
    )
    name = models.CharField(_("name"), max_length=200)
    partner_type = models.CharField(_("type"), max_length=30, choices=PartnerType.choices)
    country = models.ForeignKey(
        "countries.Country",
        on_delete=models.PROTECT,
        related_name="partners",
        verbose_name=_("country"),
    )
    sensitivity = models.CharField(
        _("sensitivity"), max_length=20, choices=Sensitivity.choices, default=Sensitivity.SENSITIVE
    )
    cleared_for_publication = models.BooleanField(
        _("cleared for publication"),
        default=False,
        help_text=_(
            "Only then may its name, its country and its projects' texts appear in published "
            "material such as the IATI export (R11): check that those texts name no one."
        ),
    )
    cleared_at = models.DateTimeField(
        _("cleared at"),
        null=True,
        blank=True,
        help_text=_("R11: texts changed after this moment are not covered by the clearance."),
    )
    clearance = models.CharField(
        _("clearance for publication"),
        max_length=20,
        choices=Clearance.choices,
        default=Clearance.NOT_REQUESTED,
        help_text=_("R11: a post asks; only a fund manager grants or refuses."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["post__code", "name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        constraints = [
            models.UniqueConstraint(fields=["post", "name"], name="partner_name_unique_per_post"),
            models.CheckConstraint(
                condition=Q(partner_type__in=PartnerType.values), name="partner_type_valid_r8"
            ),
            models.CheckConstraint(
                condition=Q(sensitivity__in=Sensitivity.values), name="partner_sensitivity_valid"
            ),
            # R11: cleared exactly when the ministry granted the clearance.
            models.CheckConstraint(
                condition=Q(cleared_for_publication=True, clearance="granted")
                | (Q(cleared_for_publication=False) & ~Q(clearance="granted")),
                name="partner_cleared_iff_granted_r11",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerDecision(RecordedStep):
    """R11: every step of a partner's publication (asked, granted, refused, sensitivity changed)
    records who, when and why, like the steps of the plan cycle."""

    class Step(models.TextChoices):
        REQUESTED = "requested", _("clearance requested")
        GRANTED = "granted", _("clearance granted")
        REFUSED = "refused", _("clearance refused")
        RESET = "reset", _("clearance lapsed or withdrawn by the post")
        SENSITIVITY = "sensitivity", _("sensitivity changed")

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("partner")
    )
    step = models.CharField(_("step"), max_length=20, choices=Step.choices)
    sensitivity_from = models.CharField(
        _("sensitivity from"), max_length=20, choices=Sensitivity.choices, blank=True
    )
    sensitivity_to = models.CharField(
        _("sensitivity to"), max_length=20, choices=Sensitivity.choices, blank=True
    )

    class Meta:
        ordering = ["partner", "at", "pk"]
        verbose_name = _("publication decision")
        verbose_name_plural = _("publication decisions")

    def __str__(self) -> str:
        return str(self.get_step_display())
