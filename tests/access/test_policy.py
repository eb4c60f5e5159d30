"""The access policy, table-driven: every service × every role, allowed and refused.

Allowed: the call succeeds. Refused: the domain error — `forbidden` for a role that may not take
the action, R11's "unknown" when an embassy user names another post's object (existence never
leaks) — and nothing is written.
"""

import inspect
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from countries import services as country_services
from countries.models import Participation, Post, PostKind, PostMembership, PostRole
from fund import access
from fund.access import Action, Role
from fund.checks import FundRuleError
from grants import services
from grants.models import (
    Allocation,
    AnnualPlan,
    AnnualReport,
    FundYear,
    Indicator,
    Partner,
    PartnerType,
    PlanTransition,
    Project,
    ProjectStatus,
)
from grants.services import ChosenPriority
from priorities.models import IntendedResult
from tests.factories import StaffFactory, UserFactory, country
from tests.helpers import make_participant, make_plan, priority

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "inactive",
    "no_role",
    "alleen_lezen",
    "beoordelaar",
    "fondsbeheerder",
    "superuser",
    "system",
    "editor",
    "viewer",
    "other_editor",
    "other_viewer",
]
FULL = {"superuser", "system"}
FUND_MANAGER = FULL | {"fondsbeheerder"}
REVIEWER = FULL | {"beoordelaar"}
POST_EDITOR = FULL | {"editor"}


@dataclass
class World:
    """Post A (whose objects the services are called on) and post B, both in 2026."""

    admin: object
    year: FundYear
    post: Post
    other_post: Post
    plan: AnnualPlan
    partner: Partner
    project: Project
    indicator: Indicator
    participation: Participation


def ministry_user(name: str, group: str | None = None, **fields):
    user = UserFactory(username=name, is_staff=True, **fields)
    if group:
        access.ensure_roles()
        user.groups.add(Group.objects.get(name=group))
    return user


def post_user(name: str, post: Post, role: str):
    user = UserFactory(username=name)
    PostMembership.objects.create(user=user, post=post, role=role)
    return user


@pytest.fixture
def world(db) -> World:
    admin = StaffFactory(username="world-builder")
    year = FundYear.objects.create(
        year=2026,
        envelope=Decimal("10000000.00"),
        plan_submission_deadline=date(2025, 11, 15),
    )
    post = make_participant(admin, year, kind=PostKind.BILATERAL)
    other_post = make_participant(admin, year, kind=PostKind.BILATERAL)
    plan = make_plan(admin, post, year, priorities=(("women_girls", "400000.00"),))
    partner = services.partner_save(
        actor=admin,
        post=post,
        name="Partner A",
        partner_type=PartnerType.LOCAL_CSO,
        country=country("KE"),
    )
    result = IntendedResult.objects.filter(priority__code="women_girls").first()
    project = services.project_create(
        actor=admin,
        post=post,
        partner=partner,
        priority=priority("women_girls"),
        title="Project A",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        status=ProjectStatus.ACTIVE,
        intended_results=[result],
        budget={2026: Decimal("100000.00")},
    )
    indicator = services.indicator_save(
        actor=admin,
        project=project,
        intended_result=result,
        name="People reached",
        unit="people",
        baseline=0,
        target=100,
    )
    services.indicator_value_set(actor=admin, indicator=indicator, year=2026, value=10)
    return World(
        admin=admin,
        year=year,
        post=post,
        other_post=other_post,
        plan=plan,
        partner=partner,
        project=project,
        indicator=indicator,
        participation=Participation.objects.get(post=post, fund_year=year),
    )


def make_actor(role: str, world: World):
    if role == "anonymous":
        return None
    if role == "inactive":
        return StaffFactory(username="inactive", is_active=False)
    if role == "no_role":
        return ministry_user("no-role")
    if role in ("alleen_lezen", "beoordelaar", "fondsbeheerder"):
        return ministry_user(role, role.replace("_", "-"))
    if role == "superuser":
        return StaffFactory(username="super")
    if role == "system":
        return access.system_actor("tasks")
    post = world.post if role in ("editor", "viewer") else world.other_post
    post_role = PostRole.EDITOR if role.endswith("editor") else PostRole.VIEWER
    return post_user(role, post, post_role)


def next_year(world: World) -> FundYear:
    """2027, in which post A takes part without a plan yet."""
    year = FundYear.objects.create(
        year=2027, envelope=Decimal("10000000.00"), plan_submission_deadline=date(2026, 11, 15)
    )
    make_participant(world.admin, year, post=world.post)
    return year


def next_year_plan(world: World) -> AnnualPlan:
    return make_plan(world.admin, world.post, next_year(world))


def spare_partner(world: World) -> Partner:
    return services.partner_save(
        actor=world.admin,
        post=world.post,
        name="Spare",
        partner_type=PartnerType.NHRI,
        country=country("KE"),
    )


def submitted(world: World) -> AnnualPlan:
    return services.plan_submit(actor=world.admin, plan=world.plan)


def approved(world: World) -> AnnualPlan:
    return services.plan_approve(actor=world.admin, plan=submitted(world))


def annual_report(world: World, *, submit: bool = False) -> AnnualReport:
    """Post A's 2026 annual report on its approved plan, with progress on every aim (R13)."""
    approved(world)
    report = services.annual_report_create(actor=world.admin, post=world.post, fund_year=world.year)
    aims = IntendedResult.objects.filter(plan_aims__plan_priority__plan=world.plan)
    services.annual_report_update(
        actor=world.admin, report=report, progress=dict.fromkeys(aims, "Voortgang.")
    )
    if submit:
        services.annual_report_submit(actor=world.admin, report=report)
    return report


# name: (prepare the state as the world's admin and return a call by `actor`, allowed roles,
#        scoped: whether the object belongs to post A, so that post B's users get R11)
SCENARIOS = {
    "membership_delete": (
        lambda w: (
            lambda membership: (
                lambda actor: country_services.membership_delete(actor=actor, membership=membership)
            )
        )(
            PostMembership.objects.create(
                user=UserFactory(username="leaving"), post=w.post, role=PostRole.VIEWER
            )
        ),
        FUND_MANAGER,
        True,
    ),
    "membership_set": (
        lambda w: (
            lambda user: (
                lambda actor: country_services.membership_set(
                    actor=actor, user=user, post=w.post, role=PostRole.VIEWER
                )
            )
        )(UserFactory(username="newcomer")),
        FUND_MANAGER,
        True,
    ),
    "fund_year_save": (
        lambda w: lambda actor: services.fund_year_save(actor=actor, fund_year=w.year),
        FUND_MANAGER,
        False,
    ),
    "post_save (create)": (
        lambda w: (
            lambda actor: country_services.post_save(
                actor=actor,
                post=Post(
                    code="NEW-1", name="New", kind="bilateral", city="X", host_country_id="KE"
                ),
            )
        ),
        FUND_MANAGER,
        False,
    ),
    "post_save (update)": (
        lambda w: lambda actor: country_services.post_save(actor=actor, post=w.post),
        FUND_MANAGER,
        True,
    ),
    "participation_set": (
        lambda w: (
            lambda actor: country_services.participation_set(
                actor=actor, post=w.post, fund_year=w.year, selected=True, decision_note="ok"
            )
        ),
        FUND_MANAGER,
        True,
    ),
    "participation_publish": (
        lambda w: (
            lambda actor: country_services.participation_publish(
                actor=actor, participation=w.participation, published=True
            )
        ),
        FUND_MANAGER,
        True,
    ),
    "assessment_set": (
        lambda w: (
            lambda actor: country_services.assessment_set(
                actor=actor, participation=w.participation, criterion="impact", score=4
            )
        ),
        FUND_MANAGER,
        True,
    ),
    "assessment_delete": (
        lambda w: (
            country_services.assessment_set(
                actor=w.admin, participation=w.participation, criterion="impact", score=4
            ),
            lambda actor: country_services.assessment_delete(
                actor=actor, participation=w.participation, criterion="impact"
            ),
        )[1],
        FUND_MANAGER,
        True,
    ),
    "allocation_set": (
        lambda w: (
            lambda actor: services.allocation_set(
                actor=actor, post=w.post, fund_year=w.year, amount="900000.00"
            )
        ),
        FUND_MANAGER,
        True,
    ),
    "plan_create": (
        lambda w: (
            year := next_year(w),
            lambda actor: services.plan_create(actor=actor, post=w.post, fund_year=year),
        )[1],
        POST_EDITOR,
        True,
    ),
    "plan_update": (
        lambda w: lambda actor: services.plan_update(actor=actor, plan=w.plan, narrative="new"),
        POST_EDITOR,
        True,
    ),
    "plan_priorities_set": (
        lambda w: (
            lambda actor: services.plan_priorities_set(
                actor=actor, plan=w.plan, items=[ChosenPriority("women_girls", "500000.00")]
            )
        ),
        POST_EDITOR,
        True,
    ),
    "plan_priority_add": (
        lambda w: (
            lambda actor: services.plan_priority_add(
                actor=actor, plan=w.plan, priority="lgbtiq", amount="100000.00"
            )
        ),
        POST_EDITOR,
        True,
    ),
    "plan_withdraw": (
        lambda w: (
            plan := next_year_plan(w),
            lambda actor: services.plan_withdraw(actor=actor, plan=plan),
        )[1],
        POST_EDITOR,
        True,
    ),
    "plan_submit": (
        lambda w: lambda actor: services.plan_submit(actor=actor, plan=w.plan),
        POST_EDITOR | {"beoordelaar"},
        True,
    ),
    "plan_return": (
        lambda w: (
            submitted(w),
            lambda actor: services.plan_return(actor=actor, plan=w.plan, comment="Please add."),
        )[1],
        REVIEWER,
        True,
    ),
    "plan_approve": (
        lambda w: (
            submitted(w),
            lambda actor: services.plan_approve(actor=actor, plan=w.plan),
        )[1],
        REVIEWER,
        True,
    ),
    "plan_amend": (
        lambda w: (
            approved(w),
            lambda actor: services.plan_amend(actor=actor, plan=w.plan, comment="New partner."),
        )[1],
        REVIEWER,
        True,
    ),
    "annual_report_create": (
        lambda w: (
            approved(w),
            lambda actor: services.annual_report_create(
                actor=actor, post=w.post, fund_year=w.year, summary="Ons jaar."
            ),
        )[1],
        POST_EDITOR,
        True,
    ),
    "annual_report_update": (
        lambda w: (
            lambda report: (
                lambda actor: services.annual_report_update(
                    actor=actor, report=report, summary="Bijgewerkt."
                )
            )
        )(annual_report(w)),
        POST_EDITOR,
        True,
    ),
    "annual_report_submit": (
        lambda w: (
            lambda report: lambda actor: services.annual_report_submit(actor=actor, report=report)
        )(annual_report(w)),
        POST_EDITOR | {"beoordelaar"},
        True,
    ),
    "annual_report_return": (
        lambda w: (
            lambda report: (
                lambda actor: services.annual_report_return(
                    actor=actor, report=report, comment="Meer cijfers."
                )
            )
        )(annual_report(w, submit=True)),
        REVIEWER,
        True,
    ),
    "annual_report_accept": (
        lambda w: (
            lambda report: lambda actor: services.annual_report_accept(actor=actor, report=report)
        )(annual_report(w, submit=True)),
        REVIEWER,
        True,
    ),
    "partner_save (create)": (
        lambda w: (
            lambda actor: services.partner_save(
                actor=actor,
                post=w.post,
                name="Partner new",
                partner_type=PartnerType.NHRI,
                country=country("KE"),
            )
        ),
        POST_EDITOR,
        True,
    ),
    "partner_save (update)": (
        lambda w: (
            lambda actor: services.partner_save(
                actor=actor,
                post=w.post,
                partner=w.partner,
                name="Renamed",
                partner_type=PartnerType.NHRI,
                country=country("KE"),
            )
        ),
        POST_EDITOR,
        True,
    ),
    # R11: publication is the ministry's decision; a post may only ask, or raise.
    "partner_request_clearance": (
        lambda w: lambda actor: services.partner_request_clearance(actor=actor, partner=w.partner),
        POST_EDITOR,
        True,
    ),
    "partner_decide_clearance": (
        lambda w: (
            lambda actor: services.partner_decide_clearance(
                actor=actor, partner=w.partner, grant=True
            )
        ),
        FUND_MANAGER,
        True,
    ),
    "partner_set_sensitivity (lower)": (
        lambda w: (
            lambda actor: services.partner_set_sensitivity(
                actor=actor, partner=w.partner, sensitivity="normal"
            )
        ),
        FUND_MANAGER,
        True,
    ),
    "partner_delete": (
        lambda w: (
            spare := spare_partner(w),
            lambda actor: services.partner_delete(actor=actor, partner=spare),
        )[1],
        POST_EDITOR,
        True,
    ),
    "project_create": (
        lambda w: (
            lambda actor: services.project_create(
                actor=actor,
                post=w.post,
                partner=w.partner,
                priority=priority("women_girls"),
                title="New project",
                start_date=date(2026, 2, 1),
                end_date=date(2026, 11, 30),
                budget={2026: "50000.00"},
            )
        ),
        POST_EDITOR,
        True,
    ),
    "projects_bulk_create": (
        lambda w: (
            lambda actor: services.projects_bulk_create(
                actor=actor,
                post=w.post,
                specs=[
                    services.ProjectSpec(
                        partner=w.partner,
                        priority=priority("women_girls"),
                        title="Bulk project",
                        start_date=date(2026, 2, 1),
                        end_date=date(2026, 11, 30),
                        budget={2026: Decimal("50000.00")},
                    )
                ],
            )
        ),
        POST_EDITOR,
        True,
    ),
    "project_update": (
        lambda w: (
            lambda actor: services.project_update(
                actor=actor, project=w.project, title="Renamed", budget={2026: "120000.00"}
            )
        ),
        POST_EDITOR,
        True,
    ),
    "disbursement_create": (
        lambda w: (
            lambda actor: services.disbursement_create(
                actor=actor, project=w.project, date=date(2026, 3, 1), amount="1000.00"
            )
        ),
        FUND_MANAGER,
        True,
    ),
    "indicator_save": (
        lambda w: (
            lambda actor: services.indicator_save(
                actor=actor,
                project=w.project,
                indicator=w.indicator,
                intended_result=w.indicator.intended_result,
                name="People reached",
                unit="people",
                baseline=0,
                target=150,
            )
        ),
        POST_EDITOR,
        True,
    ),
    "indicator_delete": (
        lambda w: lambda actor: services.indicator_delete(actor=actor, indicator=w.indicator),
        POST_EDITOR,
        True,
    ),
    "indicator_value_set": (
        lambda w: (
            lambda actor: services.indicator_value_set(
                actor=actor, indicator=w.indicator, year=2026, value=20
            )
        ),
        POST_EDITOR,
        True,
    ),
    "indicator_value_delete": (
        lambda w: (
            lambda actor: services.indicator_value_delete(
                actor=actor, indicator=w.indicator, year=2026
            )
        ),
        POST_EDITOR,
        True,
    ),
    "historical import (allocation 2025)": (
        lambda w: (
            FundYear.objects.create(
                year=2025, envelope=Decimal("100.00"), plan_submission_deadline=date(2024, 11, 1)
            ),
            lambda actor: country_services.participation_set(
                actor=actor,
                post=w.post,
                fund_year=FundYear.objects.get(year=2025),
                selected=True,
                history_import=True,
            ),
        )[1],
        FULL,
        True,
    ),
}


def written_state() -> tuple:
    """A fingerprint of everything a service can write: each write leaves an audit record
    (django-simple-history), so the number and newest id of those records change."""
    from django.apps import apps
    from django.db.models import Count, Max

    return tuple(
        tuple(model.objects.aggregate(n=Count("pk"), last=Max("pk")).values())
        for model in apps.get_models()
        if model._meta.app_label in ("grants", "countries") and "istorical" in model.__name__
    )


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """Run the block in a savepoint that is always undone, so every role meets the same state."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def expected_outcome(role: str, allowed: set[str], scoped: bool) -> str:
    if role in allowed:
        return "ok"
    if scoped and role in ("other_editor", "other_viewer"):
        return "R11 unknown"  # another post's object is answered as if it did not exist
    return "forbidden"


def actual_outcome(call, actor) -> str:
    before = written_state()
    try:
        call(actor)
    except access.UnknownObject:
        outcome = "R11 unknown"
    except access.AccessDenied:
        outcome = "forbidden"
    except FundRuleError as refusal:
        return f"refused by {refusal.rule}: {refusal}"
    else:
        return "ok"
    return outcome if written_state() == before else f"{outcome}, but wrote something"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_service_asks_the_access_policy(world, scenario):
    """One row of the table: the service called by each role, from the same state."""
    prepare, allowed, scoped = SCENARIOS[scenario]
    call = prepare(world)
    outcomes = {}
    for role in ROLES:
        with rolled_back():
            outcomes[role] = actual_outcome(call, make_actor(role, world))
    assert outcomes == {role: expected_outcome(role, allowed, scoped) for role in ROLES}


def test_the_table_covers_every_service():
    """Every public write of the service layers (a function taking an actor) is in the table."""
    writes = {
        name
        for module in (services, country_services)
        for name, function in vars(module).items()
        if inspect.isfunction(function)
        and not name.startswith("_")
        and "actor" in inspect.signature(function).parameters
        and function.__module__.startswith(("grants.services.", "countries.services"))
        and function.__module__ != "grants.services.base"  # helpers, not services
    }
    # plan_transition is covered through its named steps (submit, return, approve, amend).
    # annual_report_transition likewise (submit, return, accept).
    writes -= {"plan_transition", "annual_report_transition"}
    covered = {name.split(" ")[0] for name in SCENARIOS}
    assert writes <= covered, sorted(writes - covered)
    assert {"plan_submit", "assessment_delete", "partner_delete"} <= writes


def test_unknown_answer_is_the_same_as_for_a_missing_object(world):
    """R11: an embassy user cannot tell another post's plan from one that never existed."""
    stranger = make_actor("other_editor", world)
    with pytest.raises(FundRuleError) as other:
        services.plan_update(actor=stranger, plan=world.plan, narrative="x")
    missing = AnnualPlan(pk=world.plan.pk + 1000)
    with pytest.raises(FundRuleError) as nothing:
        services.plan_update(actor=stranger, plan=missing, narrative="x")
    assert (other.value.rule, other.value.field, str(other.value)) == (
        nothing.value.rule,
        nothing.value.field,
        str(nothing.value),
    )


def test_an_embassy_editor_cannot_rename_another_posts_partner_R11(world):
    stranger = make_actor("other_editor", world)
    with pytest.raises(FundRuleError) as refusal:
        services.partner_save(
            actor=stranger,
            post=world.other_post,
            partner=world.partner,
            name="Taken over",
            partner_type=PartnerType.LOCAL_CSO,
            country=country("KE"),
        )
    assert refusal.value.rule == "R11"
    world.partner.refresh_from_db()
    assert (world.partner.name, world.partner.post) == ("Partner A", world.post)


def test_an_embassy_editor_cannot_move_another_posts_indicator_onto_own_project_R11(world):
    stranger = make_actor("other_editor", world)
    partner_b = services.partner_save(
        actor=stranger,
        post=world.other_post,
        name="Partner B",
        partner_type=PartnerType.LOCAL_CSO,
        country=country("KE"),
    )
    services.plan_create(actor=stranger, post=world.other_post, fund_year=world.year)
    plan_b = AnnualPlan.objects.get(post=world.other_post)
    services.plan_priorities_set(
        actor=stranger, plan=plan_b, items=[ChosenPriority("women_girls", "1000")]
    )
    own_project = services.project_create(
        actor=stranger,
        post=world.other_post,
        partner=partner_b,
        priority=priority("women_girls"),
        title="B's project",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 6, 30),
        intended_results=[world.indicator.intended_result],
        budget={2026: "1000"},
    )
    with pytest.raises(FundRuleError) as refusal:
        services.indicator_save(
            actor=stranger,
            project=own_project,
            indicator=world.indicator,
            intended_result=world.indicator.intended_result,
            name="Stolen",
            unit="people",
            baseline=0,
            target=1,
        )
    assert refusal.value.rule == "R11"
    world.indicator.refresh_from_db()
    assert (world.indicator.project, world.indicator.name) == (world.project, "People reached")


@pytest.mark.parametrize("role", ["anonymous", "editor", "other_viewer"])
def test_approval_needs_a_reviewer_and_is_not_recorded_otherwise_R10(world, role):
    submitted(world)
    transitions = PlanTransition.objects.count()
    with pytest.raises(FundRuleError):
        services.plan_approve(actor=make_actor(role, world), plan=world.plan)
    world.plan.refresh_from_db()
    assert world.plan.status == "submitted"
    assert PlanTransition.objects.count() == transitions


def test_a_historical_import_is_for_superusers_and_system_actors_only_R7(world):
    FundYear.objects.create(
        year=2025, envelope=Decimal("100.00"), plan_submission_deadline=date(2024, 11, 1)
    )
    manager = make_actor("fondsbeheerder", world)
    with pytest.raises(FundRuleError) as refusal:
        country_services.participation_set(
            actor=manager,
            post=world.post,
            fund_year=FundYear.objects.get(year=2025),
            selected=True,
            history_import=True,
        )
    assert refusal.value.rule == "forbidden"


class TestTheSamePolicyForAdminAndApi:
    """user.has_perm("fund.…", obj) answers from the same table as the services."""

    @pytest.mark.parametrize("role", ROLES)
    def test_has_perm_matches_the_policy(self, world, role):
        actor = make_actor(role, world)
        if actor is None:
            return
        for action in Action:
            expected = access.can(actor, action, world.post)
            assert actor.has_perm(action.permission, world.post) is expected, action

    def test_an_editor_may_edit_own_post_only(self, world):
        editor = make_actor("editor", world)
        assert editor.has_perm("fund.edit_project", world.project)
        assert not editor.has_perm("fund.edit_project", Project(post=world.other_post))
        assert not editor.has_perm("fund.review_plan", world.plan)
        assert not editor.has_perm("fund.allocate", world.post)

    def test_read_scope(self, world):
        assert set(access.visible_posts(make_actor("editor", world))) == {world.post}
        assert set(access.visible_posts(make_actor("alleen_lezen", world))) == set(
            Post.objects.all()
        )
        assert not access.visible_posts(make_actor("no_role", world)).exists()
        assert not access.visible_posts(None).exists()
        scoped = access.scope_to_actor(Project.objects.all(), make_actor("other_viewer", world))
        assert world.project not in scoped


def test_system_actors_cannot_log_in_and_are_idempotent(world, client):
    first = access.system_actor("seed")
    again = access.system_actor("seed")
    assert first.pk == again.pk
    assert not first.is_active and not first.has_usable_password()
    assert access.profile_of(first).roles == {Role.SYSTEM}
    # Giving the account a password takes its powers away (and it still can't log in).
    first.set_password("guessable-123")
    first.save()
    access.forget(first)
    assert access.profile_of(first).roles == frozenset()
    response = client.post(
        "/admin/login/", {"username": "systeem-seed", "password": "guessable-123"}
    )
    assert response.status_code == 200  # the form again, with its error: not logged in
    assert "_auth_user_id" not in client.session


def test_ministry_groups_exist_after_migrate(db):
    assert set(access.MINISTRY_GROUPS.values()) <= set(Group.objects.values_list("name", flat=True))
    access.ensure_roles()
    assert Group.objects.filter(name="beoordelaar").count() == 1


def test_an_embassy_member_is_never_a_ministry_role_at_once(world):
    user = post_user("mixed", world.post, PostRole.VIEWER)
    access.ensure_roles()
    user.groups.add(Group.objects.get(name="fondsbeheerder"))
    with pytest.raises(FundRuleError) as refusal:
        services.allocation_set(actor=user, post=world.post, fund_year=world.year, amount="1")
    assert refusal.value.rule == "forbidden"
    assert Allocation.objects.get(post=world.post).amount == Decimal("1000000.00")


# --- Existence never leaks (R11): another post's object is answered as a missing one ----------

FOREIGN_CALLS = {
    "plan_update": lambda w, plan: services.plan_update(actor=w.actor, plan=plan, narrative="x"),
    "plan_submit": lambda w, plan: services.plan_submit(actor=w.actor, plan=plan),
    "project_update": lambda w, project: services.project_update(
        actor=w.actor, project=project, title="x"
    ),
    "disbursement_create": lambda w, project: services.disbursement_create(
        actor=w.actor, project=project, date=date(2026, 3, 1), amount="1.00"
    ),
    "indicator_value_set": lambda w, indicator: services.indicator_value_set(
        actor=w.actor, indicator=indicator, year=2026, value=1
    ),
    "indicator_save (update)": lambda w, indicator: services.indicator_save(
        actor=w.actor,
        project=indicator.project if indicator.pk in w.real_pks else w.project,
        indicator=indicator,
        intended_result=w.indicator.intended_result,
        name="x",
        unit="x",
        baseline=0,
        target=1,
    ),
    "partner_delete": lambda w, partner: services.partner_delete(actor=w.actor, partner=partner),
    "assessment_set": lambda w, participation: country_services.assessment_set(
        actor=w.actor, participation=participation, criterion="impact", score=3
    ),
}
TARGETS = {
    "plan_update": "plan",
    "plan_submit": "plan",
    "project_update": "project",
    "disbursement_create": "project",
    "indicator_value_set": "indicator",
    "indicator_save (update)": "indicator",
    "partner_delete": "partner",
    "assessment_set": "participation",
}


def answer(call) -> tuple:
    """Everything a caller (and the API's status code) can tell from a refusal."""
    with pytest.raises(FundRuleError) as refusal:
        call()
    error = refusal.value
    return type(error).__name__, error.rule, error.field, str(error)


@pytest.mark.parametrize("role", ["other_editor", "other_viewer", "no_role", "anonymous"])
@pytest.mark.parametrize("name", list(FOREIGN_CALLS))
def test_another_posts_object_gets_the_answer_of_a_missing_one_R11(world, name, role):
    world.actor = make_actor(role, world)
    target = getattr(world, TARGETS[name])
    world.real_pks = {target.pk}
    missing = type(target)(pk=target.pk + 100_000)
    forged = type(target)(pk="not-a-key")
    call = FOREIGN_CALLS[name]
    foreign_answer = answer(lambda: call(world, target))
    assert answer(lambda: call(world, missing)) == foreign_answer
    assert answer(lambda: call(world, forged)) == foreign_answer
    expected_rule = "R11" if role.startswith("other") else "forbidden"
    assert foreign_answer[1] == expected_rule
