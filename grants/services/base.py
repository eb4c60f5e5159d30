"""Helpers shared by the service modules: saving with validation, locks, the access check,
and the small reads that several rules share (R4, R5, R6).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import wraps

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from countries.models import Participation, Post
from grants.access import Action, UnknownObject, ensure_actor, ensure_allowed
from grants.models import (
    COUNTING_PROJECT_STATUSES,
    Allocation,
    BudgetLine,
    FundYear,
    Project,
    ProjectStatus,
)
from grants.rules import (
    ZERO,
    FundRuleError,
    as_domain_error,
    ensure_instances,
    invalid,
)
from priorities.models import IntendedResult, Priority

# --------------------------------------------------------------------------------------------
# Helpers


def save_validated(instance, actor, *, unguarded_key: bool = False) -> None:
    """Validate (fields and constraints), record the acting user for the audit trail, save.

    `unguarded_key`: the row has a unique key that no parent lock guards (a fund year's year,
    a post's code); a concurrent insert of the same key is then refused as the domain error.
    """
    instance._history_user = actor
    try:
        instance.full_clean()
    except ValidationError as error:
        raise as_domain_error(error) from error
    if not unguarded_key:
        instance.save()
        return
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise invalid(
            _("Someone saved the same %(kind)s at the same moment; look it up and try again."),
            params={"kind": instance._meta.verbose_name},
        ) from error


def authorize(actor, action: Action, obj=None, *, what=None, field=None, history_import=False):
    """The access policy first; a historical import (R7) is an action of its own."""
    ensure_allowed(actor, action, obj, what=what, field=field)
    if history_import:
        ensure_allowed(actor, Action.IMPORT_HISTORY)


def service(function):
    """A service: one transaction, and refused at once to a caller without any role in the
    fund (no actor, inactive, no group or post), before it reads anything — so such a caller
    learns nothing, not even whether the object it names exists (R11)."""

    @wraps(function)
    def run(*args, actor, **kwargs):
        ensure_actor(actor)
        with transaction.atomic():
            return function(*args, actor=actor, **kwargs)

    return run


def pk_of(value, model, *, what, field: str | None = None) -> int:
    """The primary key of an object the caller names; anything else is "unknown" (R11)."""
    pk = value.pk if isinstance(value, model) else value
    if isinstance(pk, int) and not isinstance(pk, bool):
        return pk
    raise UnknownObject(what, field=field)


def _locked(queryset, value, *, what, field: str | None = None):
    """The row of `value` read from the database under a row lock, or the R11 "unknown"
    answer when it does not exist (any more)."""
    model = queryset.model
    row = (
        queryset.select_for_update(of=("self",))
        .filter(pk=pk_of(value, model, what=what, field=field))
        .first()
    )
    if row is None:
        raise UnknownObject(what, field=field)
    return row


def _lock_fund_year(fund_year: FundYear | int) -> FundYear:
    return _locked(FundYear.objects.all(), fund_year, what=_("fund year"), field="fund_year")


def _lock_post(post: Post | int) -> Post:
    return _locked(Post.objects.all(), post, what=_("post"), field="post")


def _current_post_id(model, value, *, what, field=None, path="post_id") -> int:
    """The post an object belongs to, read from the database (not from the caller's copy)."""
    post_id = (
        model.objects.filter(pk=pk_of(value, model, what=what, field=field))
        .values_list(path, flat=True)
        .first()
    )
    if post_id is None:
        raise UnknownObject(what, field=field)
    return post_id


def projects_in_year(post: Post | int, year: int):
    """The non-cancelled projects of a post that belong to a year (R4, R6): those with money in
    it and, for a project without any budget line yet, its start year."""
    post_id = post.pk if isinstance(post, Post) else post
    return (
        Project.objects.filter(post_id=post_id)
        .exclude(status=ProjectStatus.CANCELLED)
        .filter(Q(budget_lines__year=year) | Q(budget_lines__isnull=True, start_date__year=year))
        .distinct()
    )


def _sum(queryset, field: str = "amount") -> Decimal:
    return queryset.aggregate(total=Sum(field))["total"] or ZERO


def _allocated(post: Post, year: int) -> Decimal:
    allocation = Allocation.objects.filter(post=post, fund_year__year=year).first()
    return allocation.amount if allocation else ZERO


def _ensure_participates(post: Post, year: int, *, field: str | None = None) -> None:
    """R6: only posts selected for a year get budget, plans or projects for it."""
    if not Participation.objects.filter(post=post, fund_year__year=year, selected=True).exists():
        raise FundRuleError(
            "R6",
            _("The post does not take part in the fund in %(year)s."),
            field=field,
            params={"year": year},
        )


def _project_money(post: Post, year: int, *, exclude_project: Project | None = None) -> Decimal:
    """R5: planned plus committed project money of a post for a calendar year."""
    lines = BudgetLine.objects.filter(
        project__post=post, year=year, project__status__in=COUNTING_PROJECT_STATUSES
    )
    if exclude_project is not None:
        lines = lines.exclude(project=exclude_project)
    return _sum(lines)


def post_year_headroom(*, post: Post, year: int) -> Decimal:
    """R5: what is left of a post's allocation for new project money in a year."""
    return _allocated(post, year) - _project_money(post, year)


def _resolve_priority(value: Priority | str, *, field: str = "priorities") -> Priority:
    """R3: only the 5+1 priorities exist (read from the database, not from the caller's copy);
    an unknown code is refused by name."""
    priority = None
    if isinstance(value, Priority) and isinstance(value.pk, int):
        priority = Priority.objects.filter(pk=value.pk).first()
    elif isinstance(value, str) and "\x00" not in value:
        priority = Priority.objects.filter(code=value).first()
    if priority is None:
        raise FundRuleError(
            "R3",
            _("'%(code)s' is not one of the 5+1 thematic priorities."),
            field=field,
            params={"code": str(value)[:40]},
        )
    return priority


def resolve_intended_results(values, *, field: str) -> list[IntendedResult]:
    """Intended results named by stored object or by code, read from the database (R13);
    an unknown code is refused by name."""
    values = _as_list(values, field=field)
    codes = [value for value in values if isinstance(value, str)]
    by_code = IntendedResult.objects.in_bulk(codes, field_name="code") if codes else {}
    unknown = [code for code in codes if code not in by_code]
    if unknown:
        raise FundRuleError(
            "R13",
            _("'%(code)s' is not an intended result of the 5+1 priorities."),
            field=field,
            params={"code": unknown[0][:80]},
        )
    named = [by_code[value] if isinstance(value, str) else value for value in values]
    return ensure_instances(named, IntendedResult, rule="R13", field=field)


def _as_list(items, *, field: str) -> list:
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise invalid(_("Give a list."), field=field)
    return list(items)
