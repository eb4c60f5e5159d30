"""Writes to posts, participations and assessments. Every writer (admin, API, seeds) calls these.

Lock order, shared with grants.services to avoid deadlocks: FundYear → Post → AnnualPlan.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grants.access import Action, ensure_allowed
from grants.models import Allocation, AnnualPlan, FundYear
from grants.rules import (
    MAX_BILATERAL_POSTS,
    MAX_MULTILATERAL_POSTS,
    REFORM_START_YEAR,
    FundRuleError,
    as_domain_error,
    ensure_choice,
    ensure_instance,
    ensure_text,
    ensure_year_writable,
    invalid,
)
from grants.services import projects_in_year

from .models import Assessment, Country, Participation, Post, PostKind, SelectionCriterion


def _save(instance, actor) -> None:
    instance._history_user = actor
    try:
        instance.full_clean()
    except ValidationError as error:
        raise as_domain_error(error) from error
    instance.save()


def _authorize(actor, action: Action, obj=None, *, what=None, field=None, history_import=False):
    ensure_allowed(actor, action, obj, what=what, field=field)
    if history_import:
        ensure_allowed(actor, Action.IMPORT_HISTORY)


def _locked(model, value, *, what, field: str):
    """The stored row under a lock, or R11's "unknown" when there is none."""
    pk = value.pk if isinstance(value, model) else None
    row = model.objects.select_for_update().filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise FundRuleError(
            "R11", _("Unknown %(object)s for this post."), field=field, params={"object": what}
        )
    return row


def participant_limit(kind: str) -> int:
    """R1: 31 bilateral and 5 multilateral posts per reformed fund year."""
    return MAX_BILATERAL_POSTS if kind == PostKind.BILATERAL else MAX_MULTILATERAL_POSTS


@transaction.atomic
def post_save(*, actor, post: Post, countries_covered: Iterable[Country] | None = None) -> Post:
    """Create or update a post. A participating post keeps its kind (R1 counts per kind)."""
    if not isinstance(post, Post):
        raise invalid(_("Give a post."), field="post")
    if post.pk:
        current = _locked(Post, post, what=_("post"), field="post")
        _authorize(actor, Action.SAVE_POST, current, what=_("post"), field="post")
    else:
        _authorize(actor, Action.SAVE_POST)
    post.kind = ensure_choice(post.kind, PostKind, rule="R1", field="kind")
    for name in ("code", "name", "city"):
        setattr(post, name, ensure_text(getattr(post, name), field=name, required=True))
    if countries_covered is not None:
        countries_covered = [
            ensure_instance(c, Country, field="countries_covered") for c in countries_covered
        ]
    if post.pk and current.kind != post.kind:
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
    *,
    actor,
    post: Post,
    fund_year: FundYear,
    selected: bool,
    decision_note: str = "",
    history_import: bool = False,
) -> Participation:
    """Record a post as candidate for a fund year and whether it is selected (R1, R6, R7)."""
    # R1 guard: the fund year row serialises selections, so two can't both take the last seat.
    fund_year = _locked(FundYear, fund_year, what=_("fund year"), field="fund_year")
    post = _locked(Post, post, what=_("post"), field="post")
    _authorize(actor, Action.SELECT_POST, post, what=_("post"), field="post",
               history_import=history_import)  # fmt: skip
    if not isinstance(selected, bool):
        raise invalid(_("Give yes or no."), field="selected")
    decision_note = ensure_text(decision_note, field="decision_note")
    ensure_year_writable(fund_year.year, history_import=history_import, field="fund_year")
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
        has_projects = projects_in_year(post, fund_year.year).exists()
        if has_money or has_plan or has_projects:
            raise FundRuleError(
                "R6",
                _(
                    "The post still has an allocation, annual plan or projects for %(year)s; "
                    "set the allocation to zero, cancel or move the projects and withdraw the "
                    "plan (only possible before its approval) before deselecting it."
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
    *,
    actor,
    participation: Participation,
    criterion: str,
    score: int,
    note: str = "",
    history_import: bool = False,
) -> Assessment:
    """R12: record the score (1–5) and note of one selection criterion.

    Locks the post, so two writers of the same criterion queue: the second updates the row.
    """
    participation = _locked_participation(actor, participation, history_import=history_import)
    note = ensure_text(note, field="note")
    if not isinstance(criterion, str) or criterion not in SelectionCriterion.values:
        raise FundRuleError(
            "R12",
            _("'%(criterion)s' is not one of the five selection criteria."),
            field="criterion",
            params={"criterion": str(criterion)[:40]},
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


def _locked_participation(actor, participation, *, history_import: bool) -> Participation:
    """The participation, read under its post's lock, once the actor may assess it (R7, R12)."""
    what = _("participation")
    pk = participation.pk if isinstance(participation, Participation) else None
    post_id = Participation.objects.filter(pk=pk).values_list("post_id", flat=True).first()
    if post_id is None:
        raise FundRuleError(
            "R11", _("Unknown %(object)s for this post."), field="participation",
            params={"object": what},
        )  # fmt: skip
    Post.objects.select_for_update().filter(pk=post_id).first()
    participation = (
        Participation.objects.select_for_update(of=("self",)).select_related("fund_year").get(pk=pk)
    )
    _authorize(actor, Action.ASSESS_POST, participation, what=what, field="participation",
               history_import=history_import)  # fmt: skip
    ensure_year_writable(participation.fund_year.year, history_import=history_import,
                         field="participation")  # fmt: skip
    return participation


@transaction.atomic
def assessment_delete(
    *, actor, participation: Participation, criterion: str, history_import: bool = False
) -> None:
    """Remove the assessment of one criterion (R12), e.g. to record it anew."""
    participation = _locked_participation(actor, participation, history_import=history_import)
    for assessment in Assessment.objects.filter(participation=participation, criterion=criterion):
        assessment._history_user = actor
        assessment.delete()
