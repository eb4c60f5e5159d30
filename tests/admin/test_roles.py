"""What each ministry role sees and may do in the admin: decided by the access policy, the
same table the services apply (issue: roles in the admin; R10, R11)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from countries.models import PostMembership, PostRole
from fund.access import ensure_roles
from grants import services
from grants.models import FundYear, PartnerType, PlanStatus, ProjectStatus, Sensitivity
from tests.factories import StaffFactory, UserFactory, country
from tests.helpers import make_participant, make_plan, priority

SECRET = "Vertrouwelijke Verdedigers"  # the highly sensitive partner's name


@pytest.fixture
def world(db):
    ensure_roles()
    admin = StaffFactory(username="roles-builder")
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("10000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    post = make_participant(admin, year)
    plan = make_plan(admin, post, year)
    services.plan_submit(actor=admin, plan=plan)
    secret = services.partner_save(
        actor=admin,
        post=post,
        name=SECRET,
        partner_type=PartnerType.LOCAL_CSO,
        country=country("KE"),
        sensitivity=Sensitivity.HIGH,
    )
    public = services.partner_save(
        actor=admin,
        post=post,
        name="Openbare Stichting",
        partner_type=PartnerType.NHRI,
        country=country("KE"),
        sensitivity=Sensitivity.NORMAL,
    )
    project = services.project_create(
        actor=admin,
        post=post,
        partner=secret,
        priority=priority("women_girls"),
        title="Bescherming",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        status=ProjectStatus.ACTIVE,
        budget={2026: Decimal("100000.00")},
    )
    return {"post": post, "plan": plan, "secret": secret, "public": public, "project": project}


def staff_in(group: str, username: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def as_role(client, world):
    def login(role: str):
        if role == "embassy":
            # membership_set refuses staff accounts; a misconfigured one is made by hand.
            user = UserFactory(username="embassy-staff", is_staff=True)
            PostMembership.objects.create(user=user, post=world["post"], role=PostRole.EDITOR)
        elif role == "no_role":
            user = UserFactory(username="staff-without-role", is_staff=True)
        else:
            user = staff_in(role, f"user-{role}")
        client.force_login(user)
        return client

    return login


PAGES = {
    "fund years": "/admin/grants/fundyear/",
    "allocations": "/admin/grants/allocation/",
    "money overview": "/admin/grants/moneyoverview/",
    "plans": "/admin/grants/annualplan/",
    "partners": "/admin/grants/partner/",
    "projects": "/admin/grants/project/",
    "payments": "/admin/grants/disbursement/",
    "posts": "/admin/countries/post/",
    "selection": "/admin/countries/participation/",
}
ADD_PAGES = {
    "fund years": "/admin/grants/fundyear/add/",
    "allocations": "/admin/grants/allocation/add/",
    "payments": "/admin/grants/disbursement/add/",
    "posts": "/admin/countries/post/add/",
    "selection": "/admin/countries/participation/add/",
    "plans": "/admin/grants/annualplan/add/",
    "projects": "/admin/grants/project/add/",
    "partners": "/admin/grants/partner/add/",
    "memberships": "/admin/countries/postmembership/add/",
}
# Which add pages each role gets (the policy: fund managers run the fund's money and posts;
# plans, partners and projects are the posts' own, through the API).
MAY_ADD = {
    "fondsbeheerder": {
        "fund years",
        "allocations",
        "payments",
        "posts",
        "selection",
        "memberships",
    },
    "beoordelaar": set(),
    "alleen-lezen": set(),
}


@pytest.mark.parametrize("role", ["fondsbeheerder", "beoordelaar", "alleen-lezen"])
def test_every_ministry_role_reads_every_page(as_role, role):
    client = as_role(role)
    for name, url in PAGES.items():
        assert client.get(url).status_code == 200, name


@pytest.mark.parametrize("role", ["fondsbeheerder", "beoordelaar", "alleen-lezen"])
def test_each_role_gets_exactly_the_add_pages_the_policy_allows(as_role, role):
    client = as_role(role)
    allowed = {name for name, url in ADD_PAGES.items() if client.get(url).status_code == 200}
    assert allowed == MAY_ADD[role]


@pytest.mark.parametrize("role", ["no_role", "embassy"])
def test_staff_without_a_ministry_role_see_nothing(as_role, role):
    client = as_role(role)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "grants" not in index.content.decode()
    for name, url in PAGES.items():
        assert client.get(url).status_code == 403, name


def plan_actions(client) -> set[str]:
    page = client.get(PAGES["plans"]).content.decode()
    return {
        action
        for action in ("submit_plans", "approve_plans", "return_plans", "amend_plans")
        if f'value="{action}"' in page
    }


def test_the_plan_actions_follow_the_policy_R10(as_role):
    assert plan_actions(as_role("beoordelaar")) == {
        "submit_plans",
        "approve_plans",
        "return_plans",
        "amend_plans",
    }


@pytest.mark.parametrize("role", ["fondsbeheerder", "alleen-lezen"])
def test_roles_without_review_get_no_review_actions_R10(as_role, role):
    assert not plan_actions(as_role(role)) & {"approve_plans", "return_plans", "amend_plans"}


def test_a_reviewer_approves_and_a_reader_cannot_R10(as_role, world):
    plan = world["plan"]
    reader = as_role("alleen-lezen")
    reader.post(PAGES["plans"], {"action": "approve_plans", "_selected_action": [plan.pk]})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    reviewer = as_role("beoordelaar")
    reviewer.post(PAGES["plans"], {"action": "approve_plans", "_selected_action": [plan.pk]})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


@pytest.mark.parametrize("role", ["fondsbeheerder", "beoordelaar", "alleen-lezen"])
def test_a_plan_is_read_only_for_the_ministry(as_role, world, role):
    """Plans are the posts' own (R10): the ministry reviews, it does not edit them."""
    page = as_role(role).get(f"{PAGES['plans']}{world['plan'].pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert 'name="narrative"' not in page


def test_a_fund_manager_edits_a_fund_year_and_a_reader_only_sees_it(as_role):
    year = FundYear.objects.get(year=2026)
    url = f"/admin/grants/fundyear/{year.pk}/change/"
    assert 'name="_save"' in as_role("fondsbeheerder").get(url).content.decode()
    assert 'name="_save"' not in as_role("alleen-lezen").get(url).content.decode()


@pytest.mark.parametrize(
    ("role", "identifies"),
    [("fondsbeheerder", True), ("beoordelaar", False), ("alleen-lezen", False)],
)
def test_a_highly_sensitive_partner_is_named_only_to_who_needs_it_R11(
    as_role, world, role, identifies
):
    client = as_role(role)
    partners = client.get(PAGES["partners"]).content.decode()
    projects = client.get(PAGES["projects"]).content.decode()
    project = client.get(f"{PAGES['projects']}{world['project'].pk}/change/").content.decode()
    assert (SECRET in partners) is identifies
    assert (SECRET in projects) is identifies
    assert (SECRET in project) is identifies
    assert "Openbare Stichting" in partners  # a normal partner is named to everyone
    detail = client.get(f"{PAGES['partners']}{world['secret'].pk}/change/")
    assert (detail.status_code == 200) is identifies
    if not identifies:
        # Type and country instead; and no searching by name either.
        assert "KE" in partners
        found = client.get(PAGES["partners"], {"q": "Vertrouwelijke"}).content.decode()
        assert "0 partners" in found or SECRET not in found


# --- Selection of posts (R1, R12) --------------------------------------------------------------


def test_the_selection_page_shows_scores_and_the_running_count_R1_R12(as_role, world):
    from countries.models import Participation
    from countries.services import assessment_set

    participation = Participation.objects.get(post=world["post"], fund_year__year=2026)
    assessment_set(
        actor=StaffFactory(username="assessor"),
        participation=participation,
        criterion="impact",
        score=4,
        note="",
    )
    page = as_role("alleen-lezen").get("/admin/countries/participation/").content.decode()
    assert "Impact van de Nederlandse inzet" in page or "Impact" in page
    assert ">4<" in page.replace(" ", "")
    assert "1 van 31 bilaterale" in page or "1 of 31 bilateral" in page


def test_selecting_beyond_31_is_refused_with_the_rule_R1(as_role, world, settings):
    from countries.models import Participation, PostKind
    from countries.services import participation_set
    from tests.factories import PostFactory

    year = FundYear.objects.get(year=2026)
    builder = StaffFactory(username="selector")
    for _index in range(30):  # the world's post is the first of 31
        make_participant(builder, year, allocation=None, kind=PostKind.BILATERAL)
    candidate = PostFactory(kind=PostKind.BILATERAL)
    participation_set(actor=builder, post=candidate, fund_year=year, selected=False)
    row = Participation.objects.get(post=candidate, fund_year=year)
    client = as_role("fondsbeheerder")
    response = client.post(
        "/admin/countries/participation/",
        {"action": "select_posts", "_selected_action": [row.pk]},
        follow=True,
    )
    row.refresh_from_db()
    assert not row.selected
    assert "[R1]" in response.content.decode()
    assert "31 van 31" in response.content.decode()


def test_a_reader_has_no_select_action(as_role):
    page = as_role("alleen-lezen").get("/admin/countries/participation/").content.decode()
    assert 'value="select_posts"' not in page
    assert (
        'value="select_posts"'
        in as_role("fondsbeheerder").get("/admin/countries/participation/").content.decode()
    )


# --- Found in review: other ways a partner's name could leak (R11), and 500s -----------------


def test_autocomplete_leaves_highly_sensitive_partners_out_for_readers_R11(as_role, world):
    url = "/admin/autocomplete/?app_label=grants&model_name=project&field_name=partner"
    reader = as_role("beoordelaar").get(url)
    assert reader.status_code == 200
    assert SECRET not in reader.content.decode()
    assert SECRET in as_role("fondsbeheerder").get(url).content.decode()


def test_a_projects_history_is_closed_when_it_names_a_hidden_partner_R11(as_role, world):
    url = f"{PAGES['projects']}{world['project'].pk}/history/"
    assert as_role("beoordelaar").get(url).status_code == 403
    assert as_role("fondsbeheerder").get(url).status_code == 200


def test_an_old_version_of_a_now_sensitive_partner_stays_closed_R11(as_role, world):
    public = world["public"]
    services.partner_save(
        actor=StaffFactory(username="raiser"),
        post=world["post"],
        partner=public,
        name=public.name,
        partner_type=public.partner_type,
        country=public.country,
        sensitivity=Sensitivity.HIGH,
    )
    first = public.history.earliest("history_date")
    url = f"{PAGES['partners']}{public.pk}/history/{first.history_id}/"
    assert as_role("alleen-lezen").get(url).status_code == 403


def test_filtering_partners_by_name_is_refused_to_readers_R11(as_role, world):
    response = as_role("beoordelaar").get(PAGES["partners"], {"name__startswith": "Vertr"})
    assert response.status_code == 400
    projects = as_role("beoordelaar").get(PAGES["projects"], {"partner__name": SECRET})
    assert projects.status_code == 400


def test_assessment_pages_and_money_pages_past_the_end_do_not_fail(as_role, world):
    from countries.models import Participation
    from countries.services import assessment_set

    participation = Participation.objects.get(post=world["post"], fund_year__year=2026)
    assessment = assessment_set(
        actor=StaffFactory(username="a"), participation=participation, criterion="impact", score=3
    )
    client = as_role("fondsbeheerder")
    assert client.get(f"/admin/countries/assessment/{assessment.pk}/change/").status_code == 200
    past = client.get("/admin/grants/moneyoverview/", {"o": "-7", "p": "99"})
    assert past.status_code in (200, 302)


def test_the_review_page_of_a_missing_plan_is_404(as_role):
    assert as_role("beoordelaar").get(f"{PAGES['plans']}999999/review/").status_code == 404


def test_a_decision_taken_meanwhile_is_explained_not_refused(as_role, world):
    client = as_role("beoordelaar")
    url = f"{PAGES['plans']}{world['plan'].pk}/review/"
    assert client.post(url, {"step": "approve"}).status_code == 302
    again = client.post(url, {"step": "approve"}, follow=True)
    assert again.status_code == 200
    assert "goedgekeurd" in again.content.decode().lower()
