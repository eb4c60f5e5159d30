"""Who may do what in the fund: the one access policy.

Every service asks `ensure_allowed` before it writes; the admin and the API ask the same
permissions through `user.has_perm("fund.<action>", obj)` (registered with the `rules` library)
and scope what they list with `visible_posts`. Nothing else decides access.

Roles:
- ministry staff, as Django groups: *fondsbeheerder* (fund manager: fund years, envelope, posts,
  selection and assessment, allocations, payments), *beoordelaar* (reviewer: the plan cycle's
  decisions, reads everything), *alleen-lezen* (reads everything, changes nothing);
- embassy staff, by their `PostMembership`: an *editor* works on their own post's plans,
  partners, projects and results; a *viewer* only reads their own post;
- superusers may do everything; so may the system actors (seeds, imports, scheduled tasks),
  which are inactive accounts without a password, so that nobody can log in as one;
- nobody else, and no call without an actor, may do anything.

An embassy user who names another post's object gets the same "unknown" answer as for an
object that does not exist (R11): whether the other post, plan or project exists never leaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import rules
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from .checks import FundRuleError


class Role(StrEnum):
    SUPERUSER = "superuser"
    SYSTEM = "system"
    FUND_MANAGER = "fondsbeheerder"
    REVIEWER = "beoordelaar"
    READ_ONLY = "alleen-lezen"
    POST_EDITOR = "post-editor"
    POST_VIEWER = "post-viewer"


class PostRole(models.TextChoices):
    """What an embassy user's membership of their post allows (`PostMembership.role`)."""

    EDITOR = "editor", _("Editor")
    VIEWER = "viewer", _("Read-only viewer")


# Django group names of the ministry roles (Dutch: the ministry's own words).
MINISTRY_GROUPS = {
    Role.FUND_MANAGER: "fondsbeheerder",
    Role.REVIEWER: "beoordelaar",
    Role.READ_ONLY: "alleen-lezen",
}
SYSTEM_GROUP = "systeem"
MINISTRY_ROLES = frozenset(MINISTRY_GROUPS)
POST_ROLES = frozenset({Role.POST_EDITOR, Role.POST_VIEWER})
ALL_POWERFUL = frozenset({Role.SUPERUSER, Role.SYSTEM})


class Action(StrEnum):
    """What an actor can do; the value is the permission name without the `fund.` prefix."""

    VIEW = "view"  # read a post's data (or, without a post, the whole fund)
    SAVE_FUND_YEAR = "save_fund_year"
    SAVE_POST = "save_post"
    SELECT_POST = "select_post"  # participation (R1, R6)
    ASSESS_POST = "assess_post"  # R12
    ALLOCATE = "allocate"  # R5
    EDIT_PLAN = "edit_plan"  # create, narrative, priorities, withdraw
    SUBMIT_PLAN = "submit_plan"
    REVIEW_PLAN = "review_plan"  # return, approve, amend
    EDIT_PARTNER = "edit_partner"
    EDIT_PROJECT = "edit_project"  # projects and their budget lines
    PAY = "pay"  # disbursements
    REPORT_RESULTS = "report_results"  # indicators and reported values (R13)
    EDIT_ANNUAL_REPORT = "edit_annual_report"  # create, summary, progress per result
    SUBMIT_ANNUAL_REPORT = "submit_annual_report"
    REVIEW_ANNUAL_REPORT = "review_annual_report"  # return, accept
    IMPORT_HISTORY = "import_history"  # write years before the reform (R7)
    IDENTIFY_PARTNER = "identify_partner"  # see who a highly sensitive partner is (R11)
    PUBLISH = "publish"  # make a participation public and export to IATI (R11)
    RESEND_MAIL = "resend_mail"  # queue an e-mail of the outbox again
    GRANT_INSPECTION = "grant_inspection"  # vertrouwelijke inzage of the list (R11)

    @property
    def permission(self) -> str:
        return f"fund.{self.value}"


# The policy itself: which roles may take each action. Superusers and system actors may take
# every action; post roles only for their own post.
POLICY: dict[Action, frozenset[Role]] = {
    Action.VIEW: MINISTRY_ROLES | POST_ROLES,
    Action.SAVE_FUND_YEAR: frozenset({Role.FUND_MANAGER}),
    Action.SAVE_POST: frozenset({Role.FUND_MANAGER}),
    Action.SELECT_POST: frozenset({Role.FUND_MANAGER}),
    Action.ASSESS_POST: frozenset({Role.FUND_MANAGER}),
    Action.ALLOCATE: frozenset({Role.FUND_MANAGER}),
    Action.EDIT_PLAN: frozenset({Role.POST_EDITOR}),
    Action.SUBMIT_PLAN: frozenset({Role.POST_EDITOR, Role.REVIEWER}),
    Action.REVIEW_PLAN: frozenset({Role.REVIEWER}),
    Action.EDIT_PARTNER: frozenset({Role.POST_EDITOR}),
    Action.EDIT_PROJECT: frozenset({Role.POST_EDITOR}),
    Action.PAY: frozenset({Role.FUND_MANAGER}),
    Action.REPORT_RESULTS: frozenset({Role.POST_EDITOR}),
    # The annual report goes through the plan's cycle, with the same roles (R10).
    Action.EDIT_ANNUAL_REPORT: frozenset({Role.POST_EDITOR}),
    Action.SUBMIT_ANNUAL_REPORT: frozenset({Role.POST_EDITOR, Role.REVIEWER}),
    Action.REVIEW_ANNUAL_REPORT: frozenset({Role.REVIEWER}),
    Action.IMPORT_HISTORY: frozenset(),
    # R11: the name of a highly sensitive partner only for those who work with it: the post
    # itself and the fund managers who pay it. Reviewers and readers see its type and country.
    Action.IDENTIFY_PARTNER: frozenset({Role.FUND_MANAGER}) | POST_ROLES,
    # R11: what the fund publishes is decided by its managers, never by a post.
    Action.PUBLISH: frozenset({Role.FUND_MANAGER}),
    Action.RESEND_MAIL: frozenset({Role.FUND_MANAGER}),
    Action.GRANT_INSPECTION: frozenset({Role.FUND_MANAGER}),
}

_ACTION_DESCRIPTIONS = {
    Action.VIEW: _("view this"),
    Action.SAVE_FUND_YEAR: _("change fund years"),
    Action.SAVE_POST: _("change posts"),
    Action.SELECT_POST: _("select posts for a fund year"),
    Action.ASSESS_POST: _("assess posts"),
    Action.ALLOCATE: _("allocate budgets"),
    Action.EDIT_PLAN: _("edit annual plans"),
    Action.SUBMIT_PLAN: _("submit annual plans"),
    Action.REVIEW_PLAN: _("return, approve or amend annual plans"),
    Action.EDIT_PARTNER: _("edit partners"),
    Action.EDIT_PROJECT: _("edit projects"),
    Action.PAY: _("record payments"),
    Action.REPORT_RESULTS: _("report results"),
    Action.EDIT_ANNUAL_REPORT: _("edit annual reports"),
    Action.SUBMIT_ANNUAL_REPORT: _("submit annual reports"),
    Action.REVIEW_ANNUAL_REPORT: _("return or accept annual reports"),
    Action.IMPORT_HISTORY: _("import history"),
    Action.IDENTIFY_PARTNER: _("see who a highly sensitive partner is"),
    Action.PUBLISH: _("decide what is published and export to IATI"),
    Action.RESEND_MAIL: _("send e-mails again"),
    Action.GRANT_INSPECTION: _("grant a confidential inspection of the list of posts"),
}


class AccessDenied(FundRuleError):
    """The actor may not take this action (code `forbidden`)."""

    def __init__(self, message, *, params=None):
        super().__init__("forbidden", message, params=params)


class UnknownObject(FundRuleError):
    """R11: another post's object is answered as if it did not exist (the API gives 404)."""

    def __init__(self, what, *, field: str | None = None):
        super().__init__(
            "R11", _("Unknown %(object)s for this post."), field=field, params={"object": what}
        )


@dataclass(frozen=True)
class Profile:
    """What the policy knows of an actor: their roles and, for embassy staff, their post."""

    roles: frozenset[Role]
    post_id: int | None = None

    @property
    def is_post_user(self) -> bool:
        return bool(self.roles & POST_ROLES)

    @property
    def is_ministry(self) -> bool:
        return bool(self.roles & (MINISTRY_ROLES | ALL_POWERFUL))


NOBODY = Profile(roles=frozenset())
_CACHE = "_fund_access_profile"
_POST_CACHE = "_fund_access_post"


def profile_of(actor) -> Profile:
    """The actor's roles, read once per user object (a request, a task or a seed run)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.pk:
        return NOBODY
    cached = getattr(actor, _CACHE, None)
    if cached is not None:
        return cached
    if not actor.is_active:
        group_names = set(actor.groups.values_list("name", flat=True))
        is_system = SYSTEM_GROUP in group_names and not actor.has_usable_password()
        profile = Profile(roles=frozenset({Role.SYSTEM})) if is_system else NOBODY
    elif actor.is_superuser:
        profile = Profile(roles=frozenset({Role.SUPERUSER}))
    else:
        membership = _membership_of(actor)
        if membership is not None:
            # Embassy staff are never ministry staff at the same time: the post role decides.
            role = Role.POST_EDITOR if membership.role == PostRole.EDITOR else Role.POST_VIEWER
            profile = Profile(roles=frozenset({role}), post_id=membership.post_id)
            setattr(actor, _POST_CACHE, membership.post)
        else:
            group_names = set(actor.groups.values_list("name", flat=True))
            profile = Profile(
                roles=frozenset(
                    role for role, group in MINISTRY_GROUPS.items() if group in group_names
                )
            )
    setattr(actor, _CACHE, profile)
    return profile


def _membership_of(actor):
    """The actor's post membership with its post: as read with the actor where it was (the
    API's token authentication reads them in the token's query), else one query."""
    reverse = actor.__class__.post_membership.related  # the class, also of a lazy user
    if reverse.is_cached(actor):
        membership = reverse.get_cached_value(actor)
        if membership is None or membership._meta.get_field("post").is_cached(membership):
            return membership
    return (
        apps.get_model("countries", "PostMembership")
        .objects.select_related("post")
        .filter(user=actor)
        .first()
    )


def forget(actor) -> None:
    """Drop the cached profile, e.g. after changing the actor's groups or membership."""
    if actor is None:
        return
    for name in (_CACHE, _POST_CACHE):
        if hasattr(actor, name):
            delattr(actor, name)
    reverse = getattr(actor.__class__, "post_membership", None)
    if reverse is not None and reverse.related.is_cached(actor):
        reverse.related.delete_cached_value(actor)


def _post_model():
    # By its label, not by import: the kernel stands below the apps (docs/architecture.md).
    return apps.get_model("countries", "Post")


def own_post_of(actor):
    """The post of an embassy user (read with their profile), or None for anyone else."""
    profile = profile_of(actor)
    if not profile.is_post_user:
        return None
    post = getattr(actor, _POST_CACHE, None)
    if post is None or post.pk != profile.post_id:
        post = _post_model().objects.get(pk=profile.post_id)
        setattr(actor, _POST_CACHE, post)
    return post


def post_id_of(obj) -> int | None:
    """The post an object belongs to, or None for fund-wide objects."""
    if obj is None:
        return None
    if isinstance(obj, _post_model()):
        return obj.pk
    if isinstance(obj, int):
        return obj
    for path in ("post_id", "project.post_id", "indicator.project.post_id"):
        value = obj
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        return value
    return None


def can(actor, action: Action, obj=None) -> bool:
    """Whether the actor may take the action, on the post of `obj` if given."""
    profile = profile_of(actor)
    if profile.roles & ALL_POWERFUL:
        return True
    if not profile.roles & POLICY[action]:
        return False
    if profile.is_post_user:
        post_id = post_id_of(obj)
        # Embassy staff act only on their own post, never fund-wide.
        return post_id is not None and post_id == profile.post_id
    return True


def ensure_actor(actor) -> Profile:
    """Refuse a caller without any role in the fund (no actor, inactive, no group or post)."""
    profile = profile_of(actor)
    if not profile.roles:
        raise AccessDenied(_("Only a known, active user with a role in the fund can do this."))
    return profile


def ensure_allowed(actor, action: Action, obj=None, *, what=None, field: str | None = None):
    """Refuse unless the actor may take the action (on the post of `obj`).

    `obj` must be read from the database by the caller (under its lock), not taken from the
    input: the caller's copy may claim another post. For another post's object an embassy
    user gets `UnknownObject` (R11), naming `what`; otherwise `AccessDenied`.
    """
    profile = ensure_actor(actor)
    if profile.is_post_user and obj is not None:
        post_id = post_id_of(obj)
        if post_id is not None and post_id != profile.post_id:
            raise UnknownObject(what or _("object"), field=field)
    if not can(actor, action, obj):
        raise AccessDenied(
            _("Your role does not allow you to %(action)s."),
            params={"action": _ACTION_DESCRIPTIONS[action]},
        )


def visible_posts(actor):
    """The posts whose data the actor may read (R11): all for ministry staff, their own post
    for embassy staff, none for anyone else."""
    Post = _post_model()
    profile = profile_of(actor)
    if profile.is_ministry:
        return Post.objects.all()
    if profile.is_post_user:
        return Post.objects.filter(pk=profile.post_id)
    return Post.objects.none()


def scope_to_actor(queryset, actor, *, post_field: str = "post"):
    """Restrict a queryset of post-owned rows to what the actor may read (R11)."""
    profile = profile_of(actor)
    if profile.is_ministry:
        return queryset
    if profile.is_post_user:
        return queryset.filter(**{f"{post_field}_id": profile.post_id})
    return queryset.none()


# --------------------------------------------------------------------------------------------
# Groups and system actors


@transaction.atomic
def ensure_roles() -> list[Group]:
    """Create the ministry groups and the system group if missing (idempotent)."""
    return [
        Group.objects.get_or_create(name=name)[0]
        for name in (*MINISTRY_GROUPS.values(), SYSTEM_GROUP)
    ]


SYSTEM_ACTORS = ("seed", "import", "tasks", "accounts")


@transaction.atomic
def system_actor(purpose: str):
    """The account that seeds, imports or scheduled tasks act as (recorded in every history).

    Inactive and without a usable password: nobody can log in as it.
    """
    if purpose not in SYSTEM_ACTORS:
        raise ValueError(f"unknown system actor {purpose!r}; one of {SYSTEM_ACTORS}")
    ensure_roles()
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=f"systeem-{purpose}",
        defaults={"is_active": False, "first_name": "Systeem", "last_name": purpose},
    )
    if created or user.has_usable_password() or user.is_active:
        user.set_unusable_password()
        user.is_active = False
        user.save()
    user.groups.add(Group.objects.get(name=SYSTEM_GROUP))
    forget(user)
    return user


# --------------------------------------------------------------------------------------------
# The same policy as object permissions for the admin and DRF: user.has_perm("fund.pay", post)


def _predicate(action: Action):
    @rules.predicate(name=f"fund_{action.value}")
    def allowed(user, obj=None) -> bool:
        return can(user, action, obj)

    return allowed


for _action in Action:
    rules.set_perm(_action.permission, _predicate(_action))
