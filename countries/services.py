"""Writes to posts, participations and assessments. Every writer (admin, API, seeds) calls these.

Lock order, shared with grants.services to avoid deadlocks: FundYear → Post → AnnualPlan.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fund.access import Action, UnknownObject
from fund.checks import (
    MAX_BILATERAL_POSTS,
    MAX_MULTILATERAL_POSTS,
    REFORM_START_YEAR,
    FundRuleError,
    ensure_choice,
    ensure_instance,
    ensure_text,
    ensure_year_writable,
    invalid,
)
from fund.services import authorize, current_post_id, locked, pk_of, save_validated, service
from grants.models import Allocation, AnnualPlan, FundYear, Project

from .models import (
    Assessment,
    Country,
    Participation,
    Post,
    PostKind,
    PostMembership,
    PostRole,
    SelectionCriterion,
)


def participant_limit(kind: str) -> int:
    """R1: 31 bilateral and 5 multilateral posts per reformed fund year."""
    return MAX_BILATERAL_POSTS if kind == PostKind.BILATERAL else MAX_MULTILATERAL_POSTS


@service
def post_save(*, actor, post: Post, countries_covered: Iterable[Country] | None = None) -> Post:
    """Create or update a post. A participating post keeps its kind (R1 counts per kind)."""
    if not isinstance(post, Post):
        raise invalid(_("Give a post."), field="post")
    if post.pk:
        current = locked(Post, post, what=_("post"), field="post")
        authorize(actor, Action.SAVE_POST, current, what=_("post"), field="post")
    else:
        authorize(actor, Action.SAVE_POST)
    post.kind = ensure_choice(post.kind, PostKind, rule="R1", field="kind")
    for name in ("code", "name", "city"):
        setattr(post, name, ensure_text(getattr(post, name), field=name, required=True))
    if countries_covered is not None:
        if isinstance(countries_covered, str | bytes) or not isinstance(
            countries_covered, Iterable
        ):
            raise invalid(_("Give a list of countries."), field="countries_covered")
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
    save_validated(post, actor, unguarded_key=post.pk is None)
    if countries_covered is not None:
        post.countries_covered.set(countries_covered)
    return post


@service
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
    fund_year = locked(FundYear, fund_year, what=_("fund year"), field="fund_year")
    post = locked(Post, post, what=_("post"), field="post")
    authorize(actor, Action.SELECT_POST, post, what=_("post"), field="post",
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
        has_projects = Project.objects.filter(post=post).of_year(fund_year.year).exists()
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
    if not selected:
        participation.published = False  # R11: only a participant's participation is public
    if selected != was_selected or participation.pk is None:
        participation.decided_by = actor
        participation.decided_at = timezone.now()
    save_validated(participation, actor)
    return participation


@service
def participation_publish(
    *, actor, participation: Participation, published: bool, history_import: bool = False
) -> Participation:
    """R11: make a selected post's participation public (its country may then appear in
    published material such as the IATI export), or confidential again (the default)."""
    participation = _locked_participation(
        actor, participation, history_import=history_import, action=Action.PUBLISH
    )
    if not isinstance(published, bool):
        raise invalid(_("Give yes or no."), field="published")
    if published and not participation.selected:
        raise FundRuleError(
            "R11",
            _("Only a selected post's participation can be made public."),
            field="published",
        )
    participation.published = published
    save_validated(participation, actor)
    return participation


@service
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
    save_validated(assessment, actor)
    return assessment


def _locked_participation(
    actor, participation, *, history_import: bool, action: Action = Action.ASSESS_POST
) -> Participation:
    """The participation, read under its post's lock, once the actor may take the action on it
    (by default assess it: R12) and its year may be written (R7)."""
    what = _("participation")
    pk = pk_of(participation, Participation, what=what, field="participation")
    post_id = Participation.objects.filter(pk=pk).values_list("post_id", flat=True).first()
    if post_id is None:
        raise UnknownObject(what, field="participation")
    Post.objects.select_for_update().filter(pk=post_id).first()
    participation = (
        Participation.objects.select_for_update(of=("self",)).select_related("fund_year").get(pk=pk)
    )
    authorize(actor, action, participation, what=what, field="participation",
               history_import=history_import)  # fmt: skip
    ensure_year_writable(participation.fund_year.year, history_import=history_import,
                         field="participation")  # fmt: skip
    return participation


@service
def assessment_delete(
    *, actor, participation: Participation, criterion: str, history_import: bool = False
) -> None:
    """Remove the assessment of one criterion (R12), e.g. to record it anew."""
    participation = _locked_participation(actor, participation, history_import=history_import)
    criterion = ensure_choice(criterion, SelectionCriterion, rule="R12", field="criterion")
    for assessment in Assessment.objects.filter(participation=participation, criterion=criterion):
        assessment._history_user = actor
        assessment.delete()


@service
def membership_set(*, actor, user, post: Post, role: str, language: str | None = None):
    """Bind an embassy user to their one post as editor or viewer (R11).

    Post users are never ministry staff: a staff, superuser or ministry-group account is
    refused, so that nobody holds both views of the fund at once.
    """
    from django.contrib.auth import get_user_model

    from fund.access import MINISTRY_GROUPS, SYSTEM_GROUP, forget

    post = locked(Post, post, what=_("post"), field="post")
    authorize(actor, Action.SAVE_POST, post, what=_("post"), field="post")
    user = ensure_instance(user, get_user_model(), field="user")
    role = ensure_choice(role, PostRole, field="role")
    ministry_groups = {*MINISTRY_GROUPS.values(), SYSTEM_GROUP}
    if user.is_staff or user.is_superuser or user.groups.filter(name__in=ministry_groups):
        raise FundRuleError(
            "R11",
            _("%(user)s is ministry staff; a post user is a separate account."),
            field="user",
            params={"user": user.get_username()},
        )
    membership = PostMembership.objects.filter(user=user).first() or PostMembership(user=user)
    membership.post = post
    membership.role = role
    if language is not None:
        if language not in dict(settings.LANGUAGES):
            raise invalid(_("Choose nl or en."), field="language")
        membership.language = language
    save_validated(membership, actor)
    forget(user)
    return membership


@service
def membership_delete(*, actor, membership: PostMembership) -> None:
    """End an embassy user's membership of their post (they lose all access, R11)."""
    from fund.access import forget

    what = _("post membership")
    # The lock order: the post first, then its membership row.
    post_id = current_post_id(PostMembership, membership, what=what, field="membership")
    post = locked(Post, post_id, what=_("post"), field="post")
    membership = locked(PostMembership, membership, what=what, field="membership")
    authorize(actor, Action.SAVE_POST, post, what=_("post"), field="post")
    user = membership.user
    membership.delete()
    forget(user)
