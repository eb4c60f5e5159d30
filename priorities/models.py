"""The 5+1 thematic priorities (R3) and the intended results per priority (R13).

Reference data: loaded by a data migration so that every database has it; the list is closed.
"""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# R3: the closed list of the 5+1 thematic priorities (letters 003 fn. 3, 001, 000).
PRIORITY_CODES = (
    "women_girls",
    "lgbtiq",
    "religion_belief",
    "expression",
    "defenders_civic_space",
    "accountability",
)


class Theme(models.TextChoices):
    HUMAN_RIGHTS = "human_rights", _("Human rights")
    # R3: since the 2023 policy note (and the letter of 21 March 2025) accountability falls
    # under the international legal order.
    INTERNATIONAL_LEGAL_ORDER = "international_legal_order", _("International legal order")


class BilingualNameMixin:
    def localized(self, nl: str, en: str) -> str:
        return en if (get_language() or "nl").startswith("en") else nl


class Priority(BilingualNameMixin, models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    is_plus_one = models.BooleanField(
        _("the +1"), default=False, help_text=_("The '+1' next to the five priorities (R3).")
    )
    theme = models.CharField(_("theme"), max_length=40, choices=Theme.choices)
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        ordering = ["position"]
        verbose_name = _("thematic priority")
        verbose_name_plural = _("thematic priorities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__in=PRIORITY_CODES), name="priority_code_in_closed_list_r3"
            ),
            models.UniqueConstraint(fields=["position"], name="priority_position_unique"),
        ]

    def __str__(self) -> str:
        return self.localized(self.name_nl, self.name_en)

    @property
    def name(self) -> str:
        return str(self)


class IntendedResult(BilingualNameMixin, models.Model):
    """A 'beoogd resultaat' of the results framework (001 annex; R13)."""

    priority = models.ForeignKey(
        Priority,
        on_delete=models.PROTECT,
        related_name="intended_results",
        verbose_name=_("priority"),
    )
    code = models.SlugField(_("code"), max_length=80, unique=True)
    text_nl = models.CharField(_("text (Dutch)"), max_length=300)
    text_en = models.CharField(_("text (English)"), max_length=300)
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        ordering = ["priority__position", "position"]
        verbose_name = _("intended result")
        verbose_name_plural = _("intended results")
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "position"], name="intended_result_position_unique"
            )
        ]

    def __str__(self) -> str:
        return self.localized(self.text_nl, self.text_en)
