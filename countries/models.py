"""Countries (reference), posts, a post's participation in a fund year and its assessment."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fund.access import PostRole
from fund.codelists import codelist

REGION_CHOICES = [
    (code, f"{code} {name}")
    for code, name in sorted(codelist("Region").items(), key=lambda i: int(i[0]))
]


class Country(models.Model):
    """ISO 3166-1 alpha-2 country, names taken from django-countries (not typed by hand)."""

    code = models.CharField(_("ISO code"), max_length=2, primary_key=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    dac_region = models.CharField(
        _("OECD DAC region"),
        max_length=4,
        blank=True,
        choices=REGION_CHOICES,
        help_text=_(
            "The narrowest DAC region the country lies in; publication (IATI) names a region "
            "instead of a confidential country (R11)."
        ),
    )

    class Meta:
        ordering = ["name_nl"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z]{2}$"), name="country_code_iso_alpha2"
            )
        ]

    def __str__(self) -> str:
        return self.name_en if (get_language() or "nl").startswith("en") else self.name_nl


class PostKind(models.TextChoices):
    BILATERAL = "bilateral", _("Bilateral (embassy)")
    MULTILATERAL = "multilateral", _("Multilateral (permanent representation)")


class Post(models.Model):
    """An embassy or permanent representation (R11: never listed without authentication)."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(
        _("code"), max_length=20, unique=True, help_text=_("Ministry code, e.g. DEMO-B01.")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=PostKind.choices)
    city = models.CharField(_("city"), max_length=100)
    host_country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        related_name="hosted_posts",
        verbose_name=_("host country"),
    )
    countries_covered = models.ManyToManyField(
        Country, blank=True, related_name="covering_posts", verbose_name=_("countries covered")
    )
    is_demo = models.BooleanField(
        _("demo"), default=False, help_text=_("Fictional post of the demo data set.")
    )
    history = HistoricalRecords(m2m_fields=[countries_covered])

    class Meta:
        ordering = ["code"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=PostKind.values), name="post_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PostMembership(models.Model):
    """Links an embassy user to the one post they work for (R11 scoping)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="post_membership",
        verbose_name=_("user"),
    )
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("post")
    )
    role = models.CharField(_("role"), max_length=10, choices=PostRole.choices)
    language = models.CharField(
        _("language"),
        max_length=5,
        choices=settings.LANGUAGES,
        default="nl",
        help_text=_("The language of the e-mails this user gets."),
    )

    class Meta:
        verbose_name = _("post membership")
        verbose_name_plural = _("post memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.post.code} ({self.get_role_display()})"


class Participation(models.Model):
    """A post as candidate for a fund year; `selected` makes it a participant (R1, R6, R12)."""

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="participations", verbose_name=_("post")
    )
    fund_year = models.ForeignKey(
        "grants.FundYear",
        on_delete=models.PROTECT,
        related_name="participations",
        verbose_name=_("fund year"),
    )
    selected = models.BooleanField(_("selected"), default=False)
    decision_note = models.TextField(_("decision note"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    published = models.BooleanField(
        _("participation public"),
        default=False,
        help_text=_(
            "The list of participating posts is confidential (R11): only when the ministry "
            "has made this post's participation public may its country appear in published "
            "material (IATI)."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-fund_year__year", "post__code"]
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["post", "fund_year"], name="participation_one_per_post_and_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.post.code} — {self.fund_year_id and self.fund_year.year}"


class SelectionCriterion(models.TextChoices):
    """R12: the five selection criteria of the 2025 letter on the fund's reform."""

    HUMAN_RIGHTS_SITUATION = "human_rights_situation", _("Human rights situation in the country")
    IMPACT = "impact", _("Impact of the Dutch effort")
    DUTCH_INTERESTS = "dutch_interests", _("Dutch interests in the country")
    EXPERTISE = "expertise", _("Available Dutch expertise")
    MANAGEMENT_CAPACITY = "management_capacity", _("Management and oversight capacity at the post")


class Assessment(models.Model):
    """R12: a score (1–5) and a note per criterion, so the selection can be explained."""

    participation = models.ForeignKey(
        Participation,
        on_delete=models.CASCADE,
        related_name="assessments",
        verbose_name=_("participation"),
    )
    criterion = models.CharField(_("criterion"), max_length=40, choices=SelectionCriterion.choices)
    score = models.PositiveSmallIntegerField(_("score (1–5)"))
    note = models.TextField(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["participation", "criterion"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["participation", "criterion"], name="assessment_one_per_criterion"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5),
                name="assessment_score_1_to_5_r12",
                violation_error_message=_("R12: the score is from 1 to 5."),
            ),
            models.CheckConstraint(
                condition=models.Q(criterion__in=SelectionCriterion.values),
                name="assessment_criterion_valid_r12",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_criterion_display()}: {self.score}"
