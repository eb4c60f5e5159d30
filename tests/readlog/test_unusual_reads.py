"""The daily check (R11): a user who reads unusually many highly sensitive partners in a day,
or the participating posts outside working hours, is named to the fund managers by e-mail."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from fund.access import ensure_roles
from outbox.models import Message
from readlog.models import Door, Kind, Read
from readlog.tasks import check_unusual_reads
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def read(user, kind, hour, count=1, day=date(2026, 12, 1)):  # a Tuesday
    Read.objects.bulk_create([Read(
        user=user, kind=kind, door=Door.ADMIN, count=count,
        at=datetime(day.year, day.month, day.day, hour, 30, tzinfo=AMSTERDAM),
    )])  # fmt: skip


def test_unusual_reading_is_e_mailed_to_the_fund_managers_once_R11(settings):
    ensure_roles()
    manager = UserFactory(username="fb", email="fb@example.org", is_staff=True)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    busy, night, normal = (
        UserFactory(username=n, is_staff=True) for n in ("druk", "nacht", "gewoon")
    )
    settings.READLOG_ALERT_PARTNERS = 10
    read(busy, Kind.PARTNER, 10, count=8)
    read(busy, Kind.PARTNER, 11, count=5)  # 13 in the day
    read(night, Kind.PARTICIPATION, 23)
    read(normal, Kind.PARTNER, 10, count=9)
    read(normal, Kind.PARTICIPATION, 14)
    read(normal, Kind.PARTICIPATION, 23, day=date(2026, 12, 2))  # another day

    assert check_unusual_reads("2026-12-01") == 2
    [message] = Message.objects.filter(to="fb@example.org")
    assert "druk: 13" in message.body and "nacht: 1" in message.body
    assert "gewoon" not in message.body
    assert check_unusual_reads("2026-12-01") == 2
    assert Message.objects.filter(to="fb@example.org").count() == 1  # one e-mail per day


def test_a_weekend_read_of_the_list_is_outside_working_hours_R11():
    ensure_roles()
    manager = UserFactory(username="fb2", email="fb2@example.org", is_staff=True)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    reader = UserFactory(username="zaterdag", is_staff=True)
    read(reader, Kind.PARTICIPATION, 11, day=date(2026, 12, 5))  # a Saturday, at 11:30
    assert check_unusual_reads("2026-12-05") == 1
    assert check_unusual_reads("2026-12-04") == 0
