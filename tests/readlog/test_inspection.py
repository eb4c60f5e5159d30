"""Vertrouwelijke inzage (R11): granted by a fund manager only, for 1 to 8 hours, a one-time
link; the account opens the year's list and nothing else; each view is a read."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from fund.access import ensure_roles, system_actor
from fund.checks import FundRuleError
from grants.models import FundYear
from readlog import inspection as inspections
from readlog.models import Door, Kind, Read
from tests.factories import PostFactory, UserFactory
from tests.helpers import make_participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def year():
    ensure_roles()
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("9000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    for _ in range(3):
        make_participant(system_actor("seed"), year)
    PostFactory(name="Ambassade Buitenstaander")
    return year


@pytest.fixture
def manager():
    user = UserFactory(username="fb-inzage", is_staff=True)
    user.groups.add(Group.objects.get(name="fondsbeheerder"))
    return user


def grant(manager, year, **kw):
    values = {"person_name": "mr. A. de Vries", "person_role": "Griffier Tweede Kamer",
              "fund_year": year, "hours": 2, **kw}  # fmt: skip
    return inspections.grant(actor=manager, **values)


def test_only_a_fund_manager_grants_and_only_for_hours(year, manager):
    reviewer = UserFactory(username="bo-inzage", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="beoordelaar"))
    with pytest.raises(FundRuleError):
        grant(reviewer, year)
    for hours in (0, 9):
        with pytest.raises(FundRuleError):
            grant(manager, year, hours=hours)
    inspection, token = grant(manager, year)
    assert inspection.ends_at - inspection.starts_at == timedelta(hours=2)
    assert token not in inspection.link_digest and len(token) > 30
    assert not inspection.account.has_usable_password() and not inspection.account.is_staff


def test_the_link_opens_the_list_once_and_nothing_else_is_reachable(year, manager):
    inspection, token = grant(manager, year, purpose="commissiedebat")
    person = Client()
    assert person.get(f"/inzage/{token}/").status_code == 200  # a button, nothing used up
    assert person.post(f"/inzage/{token}/").status_code == 302
    page = person.get("/inzage/")
    text = page.content.decode()
    assert page.status_code == 200 and "mr. A. de Vries" in text
    assert text.count("<tr>") == 4 and "Buitenstaander" not in text  # the 3 participants
    assert "no-store" in page["Cache-Control"]
    [read] = Read.objects.filter(door=Door.INSPECTION)
    assert read.kind == Kind.PARTICIPATION and read.count == 3 and read.year == 2026
    assert read.user == inspection.account and read.purpose == f"inspection {inspection.pk}"
    for elsewhere in ("/admin/", "/api/v1/me/", "/api/docs/", "/admin/dashboard/", "/"):
        assert person.get(elsewhere).status_code == 404, elsewhere
    # The link works once: a second browser gets nothing.
    assert Client().get(f"/inzage/{token}/").status_code == 410
    assert Client().post(f"/inzage/{token}/").status_code == 410


def test_a_look_at_the_link_signs_nobody_out_and_uses_nothing_up(year, manager, client):
    """A link previewer, or another site, only GETs."""
    _inspection, token = grant(manager, year)
    client.force_login(manager)
    assert client.get(f"/inzage/{token}/").status_code == 200
    assert client.get("/admin/").status_code == 200  # still signed in
    assert Client().post(f"/inzage/{token}/").status_code == 302  # and the link still works


def test_revoked_and_expired_inspections_close_at_the_next_request(year, manager):
    inspection, token = grant(manager, year)
    person = Client()
    person.post(f"/inzage/{token}/")
    assert person.get("/inzage/").status_code == 200
    inspections.revoke(actor=manager, inspection=inspection)
    assert person.get("/inzage/").status_code in (404, 410)
    assert person.get("/inzage/").status_code == 404  # signed out
    inspection.account.refresh_from_db()
    assert not inspection.account.is_active

    later, token = grant(manager, year)
    person = Client()
    person.post(f"/inzage/{token}/")
    now = timezone.now()
    type(later).objects.filter(pk=later.pk).update(
        starts_at=now - timedelta(hours=2), ends_at=now - timedelta(seconds=1)
    )
    assert person.get("/inzage/").status_code == 410


def test_a_link_outside_its_window_does_not_open(year, manager):
    _inspection, token = grant(manager, year, starts_at=timezone.now() - timedelta(hours=3))
    assert Client().post(f"/inzage/{token}/").status_code == 410
    assert Client().get("/inzage/not-a-token/").status_code == 410
