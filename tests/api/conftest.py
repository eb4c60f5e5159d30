"""Two posts with the same kinds of objects, and API clients for each kind of caller."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from countries.models import Post, PostRole
from grants import services
from grants.models import (
    AnnualPlan,
    Disbursement,
    FundYear,
    Indicator,
    Partner,
    PartnerType,
    Project,
    ProjectStatus,
)
from priorities.models import IntendedResult
from tests.factories import StaffFactory, country
from tests.helpers import make_participant, make_plan, priority

from .support import client_for, post_user


@dataclass
class PostWorld:
    post: Post
    plan: AnnualPlan
    partner: Partner
    project: Project
    indicator: Indicator
    disbursement: Disbursement


@dataclass
class ApiWorld:
    admin: object
    year: FundYear
    own: PostWorld
    other: PostWorld


def build_post_world(admin, year, *, name: str) -> PostWorld:
    """A post taking part in 2026 (€ 1,000,000) with a draft plan choosing women_girls
    (€ 400,000), a partner, an active project (€ 100,000 in 2026), an indicator with a 2026
    value and a payment."""
    post = make_participant(admin, year)
    plan = make_plan(admin, post, year, priorities=(("women_girls", "400000.00"),))
    partner = services.partner_save(
        actor=admin,
        post=post,
        name=f"Partner {name}",
        partner_type=PartnerType.LOCAL_CSO,
        country=country("KE"),
    )
    result = IntendedResult.objects.filter(priority__code="women_girls").order_by("pk").first()
    project = services.project_create(
        actor=admin,
        post=post,
        partner=partner,
        priority=priority("women_girls"),
        title=f"Project {name}",
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
    disbursement = services.disbursement_create(
        actor=admin, project=project, date=date(2026, 3, 1), amount=Decimal("25000.00")
    )
    return PostWorld(post, plan, partner, project, indicator, disbursement)


@pytest.fixture
def api_world(db) -> ApiWorld:
    admin = StaffFactory(username="api-world-builder")
    year = FundYear.objects.create(
        year=2026,
        envelope=Decimal("10000000.00"),
        plan_submission_deadline=date(2025, 11, 15),
    )
    return ApiWorld(
        admin=admin,
        year=year,
        own=build_post_world(admin, year, name="own"),
        other=build_post_world(admin, year, name="other"),
    )


@pytest.fixture
def editor(api_world):
    return post_user(api_world.admin, api_world.own.post, PostRole.EDITOR, "own-editor")


@pytest.fixture
def api(editor) -> APIClient:
    """The own post's editor."""
    return client_for(editor)


@pytest.fixture
def viewer_api(api_world) -> APIClient:
    return client_for(post_user(api_world.admin, api_world.own.post, PostRole.VIEWER, "viewer"))


@pytest.fixture
def other_api(api_world) -> APIClient:
    """An editor of the other post."""
    return client_for(
        post_user(api_world.admin, api_world.other.post, PostRole.EDITOR, "other-editor")
    )


@pytest.fixture
def ministry_api(api_world) -> APIClient:
    return client_for(api_world.admin)
