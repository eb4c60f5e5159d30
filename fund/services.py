"""The plumbing every service of every app shares: one transaction per service, the access
check first, rows read again under a lock, validation before saving.

Lock order (docs/architecture.md): FundYear → Post → the document or row itself. A service
that needs two of these locks takes them in that order, so concurrent writers queue instead
of deadlocking or both passing a rule.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from .access import Action, UnknownObject, ensure_actor, ensure_allowed
from .checks import as_domain_error, invalid


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


def authorize(actor, action: Action, obj=None, *, what=None, field=None, history_import=False):
    """The access policy first; a historical import (R7) is an action of its own."""
    ensure_allowed(actor, action, obj, what=what, field=field)
    if history_import:
        ensure_allowed(actor, Action.IMPORT_HISTORY)


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


def pk_of(value, model, *, what, field: str | None = None) -> int:
    """The primary key of an object the caller names; anything else is "unknown" (R11)."""
    pk = value.pk if isinstance(value, model) else value
    if isinstance(pk, int) and not isinstance(pk, bool):
        return pk
    raise UnknownObject(what, field=field)


def locked(rows, value, *, what, field: str | None = None):
    """The row of `value` read from the database under a row lock (`rows`: a model or a
    queryset of it), or the R11 "unknown" answer when it does not exist (any more)."""
    queryset = (
        rows.objects.all() if isinstance(rows, type) and issubclass(rows, models.Model) else rows
    )
    row = (
        queryset.select_for_update(of=("self",))
        .filter(pk=pk_of(value, queryset.model, what=what, field=field))
        .first()
    )
    if row is None:
        raise UnknownObject(what, field=field)
    return row


def current_post_id(model, value, *, what, field=None, path="post_id") -> int:
    """The post an object belongs to, read from the database (not from the caller's copy)."""
    post_id = (
        model.objects.filter(pk=pk_of(value, model, what=what, field=field))
        .values_list(path, flat=True)
        .first()
    )
    if post_id is None:
        raise UnknownObject(what, field=field)
    return post_id
