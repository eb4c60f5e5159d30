"""*Vertrouwelijke inzage* (R11): a fund manager grants a named person read-only access to one
fund year's list of participating posts for a window of hours, through a one-time login link;
the account it makes opens nothing else (readlog.middleware.ReadLogMiddleware), every view is a
read, and the access ends at the window's end or when it is revoked, whichever comes first."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model, login
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fund.access import Action, ensure_allowed
from fund.checks import ensure_text, invalid

from .models import Inspection

# Accounts of inspections are named with a colon, which no username form accepts: nobody can
# choose such a name, and the guard tells them apart without a query.
ACCOUNT_PREFIX = "inzage:"
MAX_HOURS = 8


def is_inspection_account(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.get_username().startswith(
        ACCOUNT_PREFIX
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def grant(*, actor, person_name: str, person_role: str, fund_year, hours: int,
          purpose: str = "", starts_at=None) -> tuple[Inspection, str]:  # fmt: skip
    """Make the inspection and its account; returns it with the one-time link's token, which
    is shown only now (only its digest is kept)."""
    ensure_allowed(actor, Action.GRANT_INSPECTION)
    person_name = ensure_text(person_name, field="person_name", max_length=200, required=True)
    person_role = ensure_text(person_role, field="person_role", max_length=200, required=True)
    purpose = ensure_text(purpose, field="purpose", max_length=200)
    if fund_year.year < 2026:
        raise invalid(_("Only the list of a fund year from 2026 is confidential."),
                      field="fund_year")  # fmt: skip
    if not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise invalid(_("An inspection lasts 1 to %(max)s hours.") % {"max": MAX_HOURS},
                      field="hours")  # fmt: skip
    starts_at = starts_at or timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        account = get_user_model().objects.create(
            username=f"{ACCOUNT_PREFIX}{secrets.token_hex(8)}", is_staff=False, is_active=True
        )
        account.set_unusable_password()
        account.save(update_fields=["password"])
        inspection = Inspection.objects.create(
            person_name=person_name, person_role=person_role, fund_year=fund_year,
            purpose=purpose, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours),
            granted_by=actor, account=account, link_digest=_digest(token),
        )  # fmt: skip
    return inspection, token


def open_link(request, token: str) -> Inspection | None:
    """Sign the person in with the link, once, within the window; None when it is unknown,
    used, revoked or outside the window."""
    with transaction.atomic():
        inspection = (
            Inspection.objects.select_for_update()
            .select_related("account", "fund_year")
            .filter(link_digest=_digest(token))
            .first()
        )
        if inspection is None or inspection.link_used_at or not inspection.is_open():
            return None
        inspection.link_used_at = timezone.now()
        inspection.save(update_fields=["link_used_at"])
    login(request, inspection.account, backend="django.contrib.auth.backends.ModelBackend")
    request.session.set_expiry(inspection.ends_at)
    return inspection


def link_is_open(token: str) -> bool:
    found = Inspection.objects.filter(link_digest=_digest(token), link_used_at__isnull=True)
    inspection = found.first()
    return inspection is not None and inspection.is_open()


def revoke(*, actor, inspection: Inspection) -> Inspection:
    """End the access now: the account is switched off, so its session ends at the person's
    next request (the list page also checks the window on every view)."""
    ensure_allowed(actor, Action.GRANT_INSPECTION)
    with transaction.atomic():
        locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if locked.revoked_at is None:
            locked.revoked_at, locked.revoked_by = timezone.now(), actor
            locked.save(update_fields=["revoked_at", "revoked_by"])
            type(locked.account).objects.filter(pk=locked.account_id).update(is_active=False)
    return locked


def of(user) -> Inspection | None:
    return Inspection.objects.select_related("fund_year").filter(account=user).first()
