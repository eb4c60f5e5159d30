"""Writes to posts, participations and assessments. Every writer (admin, API, seeds) calls these.

Lock order, shared with grants.services to avoid deadlocks: FundYear → Post → AnnualPlan.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grants.models import Allocation, AnnualPlan, FundYear
from grants.rules import (
    MAX_BILATERAL_POSTS,
    MAX_MULTILATERAL_POSTS,
    REFORM_START_YEAR,
    FundRuleError,
)

from .models import Assessment, Country, Participation, Post, PostKind, SelectionCriterion


def _save(instance, actor) -> None:
    instance._history_user = actor
    instance.full_clean()
    instance.save()


def participant_limit(kind: str) -> int:
    """R1: 31 bilateral and 5 multilateral posts per reformed fund year."""
    return MAX_BILATERAL_POSTS if kind == PostKind.BILATERAL else MAX_MULTILATERAL_POSTS


@transaction.atomic
def post_save(*, actor, post: Post, countries_covered: Iterable[Country] | None = None) -> Post:
    """Create or update a post. A participating post keeps its kind (R1 counts per kind)."""
    if post.pk:
        current = Post.objects.select_for_update().get(pk=post.pk)
        if current.kind != post.kind:
            reformed_years = list(
                Participation.objects.filter(
                    post=current, selected=True, fund_year__year__gte=REFORM_START_YEAR
                ).values_list("fund_year__year", flat=True)
            )
            if reformed_years:
                raise FundRuleError(
                    "R1",
                    _(
                        "The post is selected for %(years)s and counted as %(kind)s there; "
                        "deselect it before changing its kind."
                    ),
                    field="kind",
                    params={
                        "years": ", ".join(map(str, sorted(reformed_years))),
                        "kind": current.get_kind_display(),
                    },
                )
    _save(post, actor)
    if countries_covered is not None:
        post.countries_covered.set(countries_covered)
    return post


@transaction.atomic
def participation_set(
    *, actor, post: Post, fund_year: FundYear, selected: bool, decision_note: str = ""
) -> Participation:
    """Record a post as candidate for a fund year and whether it is selected (R1, R6)."""
    # R1 guard: the fund year row serialises selections, so two can't both take the last seat.
    fund_year = FundYear.objects.select_for_update().get(pk=fund_year.pk)
    post = Post.objects.select_for_update().get(pk=post.pk)
    participation = Participation.objects.filter(post=post, fund_year=fund_year).first()
    if participation is None:
        participation = Participation(post=post, fund_year=fund_year)
    was_selected = participation.selected

    if selected and not was_selected and fund_year.is_reformed:
        limit = participant_limit(post.kind)
        taken = (
            Participation.objects.filter(fund_year=fund_year, selected=True, post__kind=post.kind)
            .exclude(pk=participation.pk)
            .count()
        )
        if taken >= limit:
            raise FundRuleError(
                "R1",
                _(
                    "Fund year %(year)s already has %(limit)s selected %(kind)s posts, the "
                    "maximum of the reform."
                ),
                field="selected",
                params={"year": fund_year.year, "limit": limit, "kind": post.get_kind_display()},
            )
    if was_selected and not selected:
        # R6: a post that leaves the fund keeps no money or plan for that year.
        has_money = Allocation.objects.filter(post=post, fund_year=fund_year, amount__gt=0).exists()
        has_plan = AnnualPlan.objects.filter(post=post, fund_year=fund_year).exists()
        if has_money or has_plan:
            raise FundRuleError(
                "R6",
                _(
                    "The post still has an allocation or annual plan for %(year)s; set the "
                    "allocation to zero and withdraw the plan (only possible before its "
                    "approval) before deselecting it."
                ),
                field="selected",
                params={"year": fund_year.year},
            )
    participation.selected = selected
    participation.decision_note = decision_note
    if selected != was_selected or participation.pk is None:
        participation.decided_by = actor
        participation.decided_at = timezone.now()
    _save(participation, actor)
    return participation


@transaction.atomic
def assessment_set(
    *, actor, participation: Participation, criterion: str, score: int, note: str = ""
) -> Assessment:
    """R12: record the score (1–5) and note of one selection criterion."""
    if criterion not in SelectionCriterion.values:
        raise FundRuleError(
            "R12",
            _("'%(criterion)s' is not one of the five selection criteria."),
            field="criterion",
            params={"criterion": criterion},
        )
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise FundRuleError("R12", _("The score is a whole number from 1 to 5."), field="score")
    assessment = Assessment.objects.filter(
        participation=participation, criterion=criterion
    ).first() or Assessment(participation=participation, criterion=criterion)
    assessment.score = score
    assessment.note = note
    _save(assessment, actor)
    return assessment
