"""Implementing partners of a post (R8, R11)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from countries.models import Country, Post
from fund.access import Action, can
from fund.checks import (
    FundRuleError,
    ensure_choice,
    ensure_instance,
    ensure_text,
    invalid,
)
from fund.services import authorize, current_post_id, locked, pk_of, save_validated, service
from grants.models import (
    SENSITIVITY_RANK,
    Clearance,
    Partner,
    PartnerDecision,
    PartnerType,
    Sensitivity,
)

from .base import lock_post

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
    sensitivity: str | None = None,
    cleared_for_publication: bool | None = None,
    partner: Partner | None = None,
) -> Partner:
    """Create or update an implementing partner of a post; its type is required (R8).

    R11: what is published is the ministry's decision. A post gives a new partner at least the
    default sensitivity (sensitive) and may raise it later; lowering it, and clearing a
    partner for publication, are fund-manager actions (`partner_decide_clearance`,
    `partner_set_sensitivity`). A post may withdraw a clearance (publishing less is always
    allowed), never give one. A post's change of name, country or type, or a higher
    sensitivity, lapses a clearance: what the ministry cleared is no longer what would be
    published.

    Locks the post, so two writers can't both create the same name (one gets the refusal).
    """
    post_id = pk_of(post, Post, what=_("post"), field="post")
    if partner is not None:
        what = _("partner")
        stored_post_id = current_post_id(Partner, partner, what=what, field="partner")
        # Lock both posts (in pk order) so no project of the old post can take the partner
        # while it moves.
        for locked_id in sorted({stored_post_id, post_id}):
            lock_post(locked_id)
        partner = locked(Partner.objects.all(), partner, what=what, field="partner")
        authorize(actor, Action.EDIT_PARTNER, partner, what=what, field="partner")
    post = lock_post(post_id)
    authorize(actor, Action.EDIT_PARTNER, post, what=_("post"), field="post")
    partner_type = ensure_choice(partner_type, PartnerType, rule="R8", field="partner_type")
    name = ensure_text(name, field="name", max_length=200, required=True)
    country = ensure_instance(country, Country, field="country")
    if sensitivity is None:
        sensitivity = partner.sensitivity if partner is not None else Sensitivity.SENSITIVE
    sensitivity = ensure_choice(sensitivity, Sensitivity, field="sensitivity")
    current_cleared = partner.cleared_for_publication if partner is not None else False
    if cleared_for_publication is None:
        cleared_for_publication = current_cleared
    if not isinstance(cleared_for_publication, bool):
        raise invalid(_("Give yes or no."), field="cleared_for_publication")
    may_publish = can(actor, Action.PUBLISH)
    if cleared_for_publication and not current_cleared and not may_publish:
        raise FundRuleError(
            "R11",
            _("Only the ministry clears a partner for publication: ask for clearance instead."),
            field="cleared_for_publication",
        )
    floor = partner.sensitivity if partner is not None else Sensitivity.SENSITIVE
    if _lowers(floor, sensitivity) and not may_publish:
        raise FundRuleError(
            "R11",
            _("Only the ministry lowers a partner's sensitivity; a post may raise it."),
            field="sensitivity",
        )
    if partner is not None:
        if partner.post_id != post.pk and partner.projects.exists():
            raise FundRuleError(
                "R11", _("A partner with projects stays with its post."), field="post"
            )
    else:
        partner = Partner()
    before = (
        (partner.name, partner.country_id, partner.partner_type, partner.sensitivity)
        if partner.pk
        else None
    )
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
    steps = []
    moved = before is not None and (
        (name, country.pk, partner_type) != before[:3] or _lowers(sensitivity, before[3])
    )
    if moved and cleared_for_publication and not may_publish:
        # What the ministry cleared is no longer what would be published: ask again.
        cleared_for_publication = False
        _lapse(partner)
        steps.append(PartnerDecision.Step.RESET)
    elif cleared_for_publication != current_cleared and not may_publish:
        # The post withdraws (publishing less is always allowed): it may ask again later.
        partner.clearance = Clearance.NOT_REQUESTED
        steps.append(PartnerDecision.Step.RESET)
    elif cleared_for_publication != current_cleared:
        partner.clearance = Clearance.GRANTED if cleared_for_publication else Clearance.REFUSED
        steps.append(
            PartnerDecision.Step.GRANTED
            if cleared_for_publication
            else PartnerDecision.Step.REFUSED
        )
    if cleared_for_publication and steps:
        partner.cleared_at = timezone.now()
    elif not cleared_for_publication:
        partner.cleared_at = None
    partner.cleared_for_publication = cleared_for_publication
    save_validated(partner, actor)
    if before is not None and before[3] != sensitivity:
        _record(partner, actor, PartnerDecision.Step.SENSITIVITY, before[3])
    for step in steps:
        _record(partner, actor, step)
    return partner


def _lowers(current: str, new: str) -> bool:
    """R11: whether a sensitivity is lower than the current one (the ministry's decision)."""
    return SENSITIVITY_RANK[new] < SENSITIVITY_RANK[current]


def _lapse(partner: Partner) -> None:
    """R11: the clearance no longer holds; the post may ask again."""
    partner.cleared_for_publication, partner.cleared_at = False, None
    partner.clearance = Clearance.NOT_REQUESTED


def _record(partner: Partner, actor, step, sensitivity_from: str = "", comment: str = "") -> None:
    PartnerDecision.objects.create(
        partner=partner,
        step=step,
        actor=actor if getattr(actor, "pk", None) else None,
        sensitivity_from=sensitivity_from,
        sensitivity_to=partner.sensitivity if sensitivity_from else "",
        comment=comment,
    )


def _partner_for_decision(actor, partner, action: Action) -> Partner:
    what = _("partner")
    lock_post(current_post_id(Partner, partner, what=what, field="partner"))
    partner = locked(Partner.objects.all(), partner, what=what, field="partner")
    authorize(actor, action, partner, what=what, field="partner")
    return partner


@service
def partner_request_clearance(*, actor, partner: Partner, comment: str = "") -> Partner:
    """R11: a post asks the ministry to clear its partner for publication (name, country and
    its projects' texts in IATI). The request is recorded; a fund manager decides. Asking
    again for a cleared partner (its projects' texts changed since) withdraws the clearance
    until the ministry has looked again."""
    partner = _partner_for_decision(actor, partner, Action.EDIT_PARTNER)
    comment = ensure_text(comment, field="comment", max_length=2000)
    if partner.clearance == Clearance.REQUESTED:
        raise FundRuleError(
            "R11",
            _("Clearance for this partner is already asked for or granted (%(state)s)."),
            field="clearance",
            params={"state": partner.get_clearance_display()},
        )
    partner.clearance = Clearance.REQUESTED
    partner.cleared_for_publication = False
    partner.cleared_at = None
    save_validated(partner, actor)
    _record(partner, actor, PartnerDecision.Step.REQUESTED, comment=comment)
    return partner


@service
def partner_decide_clearance(*, actor, partner: Partner, grant: bool, comment: str = "") -> Partner:
    """R11: a fund manager grants or refuses (or withdraws) a partner's clearance for
    publication; recorded with who, when and why. Whoever grants checks that the partner's
    name and its projects' texts name no one."""
    partner = _partner_for_decision(actor, partner, Action.PUBLISH)
    comment = ensure_text(comment, field="comment", max_length=2000)
    if not isinstance(grant, bool):
        raise invalid(_("Give yes or no."), field="grant")
    partner.clearance = Clearance.GRANTED if grant else Clearance.REFUSED
    partner.cleared_for_publication = grant
    # The texts as they are now are what the fund manager checked.
    partner.cleared_at = timezone.now() if grant else None
    save_validated(partner, actor)
    step = PartnerDecision.Step.GRANTED if grant else PartnerDecision.Step.REFUSED
    _record(partner, actor, step, comment=comment)
    return partner


@service
def partner_set_sensitivity(
    *, actor, partner: Partner, sensitivity: str, comment: str = ""
) -> Partner:
    """R11: raise a partner's sensitivity (the post or a fund manager) or lower it (a fund
    manager only: it shows the name to reviewers and readers, and may let it be published)."""
    ministry = can(actor, Action.PUBLISH)
    partner = _partner_for_decision(
        actor, partner, Action.PUBLISH if ministry else Action.EDIT_PARTNER
    )
    sensitivity = ensure_choice(sensitivity, Sensitivity, field="sensitivity")
    if _lowers(partner.sensitivity, sensitivity) and not ministry:
        # R11: lowering is the ministry's (the publish action), whoever else may edit.
        authorize(actor, Action.PUBLISH, partner, what=_("partner"), field="sensitivity")
    comment = ensure_text(comment, field="comment", max_length=2000)
    before = partner.sensitivity
    if before == sensitivity:
        return partner
    partner.sensitivity = sensitivity
    lapses = partner.cleared_for_publication and not ministry
    if lapses:  # a post sees a new risk: the ministry must look again
        _lapse(partner)
    save_validated(partner, actor)
    _record(partner, actor, PartnerDecision.Step.SENSITIVITY, before, comment=comment)
    if lapses:
        _record(partner, actor, PartnerDecision.Step.RESET)
    return partner


@service
def partner_delete(*, actor, partner: Partner) -> None:
    """Remove a partner that has no projects (those refer to it, R5 and R11)."""
    what = _("partner")
    lock_post(current_post_id(Partner, partner, what=what, field="partner"))
    partner = locked(Partner.objects.all(), partner, what=what, field="partner")
    authorize(actor, Action.EDIT_PARTNER, partner, what=what, field="partner")
    if partner.projects.exists():
        raise FundRuleError(
            "R11", _("A partner with projects stays: its projects refer to it."), field="partner"
        )
    if partner.sensitivity == Sensitivity.HIGH and not can(actor, Action.PUBLISH):
        # Deleting and adding it again would lower its sensitivity past the ministry.
        raise FundRuleError(
            "R11",
            _("A highly sensitive partner is removed by the ministry only."),
            field="partner",
        )
    partner._history_user = actor
    partner.delete()
