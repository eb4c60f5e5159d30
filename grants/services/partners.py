"""Implementing partners of a post (R8, R11)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from countries.models import Country, Post
from grants.access import Action
from grants.models import (
    Partner,
    PartnerType,
    Sensitivity,
)
from grants.rules import (
    FundRuleError,
    ensure_choice,
    ensure_instance,
    ensure_text,
    invalid,
)

from .base import (
    _current_post_id,
    _lock_post,
    _locked,
    authorize,
    pk_of,
    save_validated,
    service,
)

# --------------------------------------------------------------------------------------------
# Partners (R8, R11)


@service
def partner_save(
    *,
    actor,
    post: Post,
    name: str,
    partner_type: str,
    country: Country,
    sensitivity: str = Sensitivity.SENSITIVE,
    cleared_for_publication: bool = False,
    partner: Partner | None = None,
) -> Partner:
    """Create or update an implementing partner of a post; its type is required (R8).

    Locks the post, so two writers can't both create the same name (one gets the refusal).
    """
    post_id = pk_of(post, Post, what=_("post"), field="post")
    if partner is not None:
        what = _("partner")
        current_post_id = _current_post_id(Partner, partner, what=what, field="partner")
        # Lock both posts (in pk order) so no project of the old post can take the partner
        # while it moves.
        for locked_id in sorted({current_post_id, post_id}):
            _lock_post(locked_id)
        partner = _locked(Partner.objects.all(), partner, what=what, field="partner")
        authorize(actor, Action.EDIT_PARTNER, partner, what=what, field="partner")
    post = _lock_post(post_id)
    authorize(actor, Action.EDIT_PARTNER, post, what=_("post"), field="post")
    partner_type = ensure_choice(partner_type, PartnerType, rule="R8", field="partner_type")
    name = ensure_text(name, field="name", max_length=200, required=True)
    country = ensure_instance(country, Country, field="country")
    sensitivity = ensure_choice(sensitivity, Sensitivity, field="sensitivity")
    if not isinstance(cleared_for_publication, bool):
        raise invalid(_("Give yes or no."), field="cleared_for_publication")
    if partner is not None:
        if partner.post_id != post.pk and partner.projects.exists():
            raise FundRuleError(
                "R11", _("A partner with projects stays with its post."), field="post"
            )
    else:
        partner = Partner()
    namesake = Partner.objects.filter(post=post, name=name).exclude(pk=partner.pk).exists()
    if namesake:  # read under the post lock: two writers of one name can't both pass
        raise invalid(
            _("The post already has a partner named '%(name)s'."),
            field="name",
            params={"name": name},
        )
    partner.post = post
    partner.name = name
    partner.partner_type = partner_type
    partner.country = country
    partner.sensitivity = sensitivity
    partner.cleared_for_publication = cleared_for_publication
    save_validated(partner, actor)
    return partner


@service
def partner_delete(*, actor, partner: Partner) -> None:
    """Remove a partner that has no projects (those refer to it, R5 and R11)."""
    what = _("partner")
    _lock_post(_current_post_id(Partner, partner, what=what, field="partner"))
    partner = _locked(Partner.objects.all(), partner, what=what, field="partner")
    authorize(actor, Action.EDIT_PARTNER, partner, what=what, field="partner")
    if partner.projects.exists():
        raise FundRuleError(
            "R11", _("A partner with projects stays: its projects refer to it."), field="partner"
        )
    partner._history_user = actor
    partner.delete()
