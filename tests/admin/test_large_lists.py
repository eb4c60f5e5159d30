"""The project list stays fast at 100 000 projects (docs/performance.md): a search or filter
counts at most a thousand matches and says "more than" past them; the whole list is counted
exactly; projects are filtered by start year from the ends of an index, not by reading every
project's date."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fund.admin import CappedCountPaginator
from grants.models import FundYear
from tests.factories import StaffFactory
from tests.helpers import make_participant, make_plan, make_project

pytestmark = pytest.mark.django_db
LIST = "/admin/grants/project/"


@pytest.fixture
def projects():
    admin = StaffFactory(username="lijst-bouwer", is_superuser=True)
    post = None
    for number in (2026, 2027, 2029):
        deadline = date(number - 1, 11, 15)
        year = FundYear.objects.create(
            year=number, envelope=Decimal("9000000.00"), plan_submission_deadline=deadline
        )
        post = make_participant(admin, year, post=post)
        make_plan(admin, post, year)
    starts = [date(2026, 3, 1), date(2027, 1, 1), date(2027, 5, 1), date(2029, 2, 1)]
    for index, start in enumerate(starts):
        make_project(admin, post, title=f"Waterproject {index}", start_date=start,
                     end_date=date(start.year, 12, 31),
                     budget={start.year: Decimal("1000.00")})  # fmt: skip
    make_project(admin, post, title="Ander werk", start_date=date(2026, 2, 1),
                 end_date=date(2026, 12, 31))  # fmt: skip
    return admin


def test_past_the_cap_a_search_says_more_than_and_counts_no_further(projects, client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    client.force_login(projects)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(LIST, {"q": "waterproject"}).content.decode()
    assert "meer dan 3 resultaten" in page and "meer dan 3 projecten" in page
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 4" in counts[0].upper(), counts
    # Within the cap, the count is exact; the whole list is counted exactly too.
    few = client.get(LIST, {"q": "ander"}).content.decode()
    assert "1 resultaat" in few and "meer dan" not in few
    everything = client.get(LIST).content.decode()
    assert "5 projecten" in everything and "meer dan" not in everything


def test_projects_are_filtered_by_their_start_year(projects, client):
    client.force_login(projects)
    page = client.get(LIST).content.decode()
    filters = page[page.index('id="changelist-filter"') :]
    # Every year between the first and the last start, newest first.
    years = [f"start_year={year}" for year in (2029, 2028, 2027, 2026)]
    assert all(year in filters for year in years)
    assert [filters.index(year) for year in years] == sorted(filters.index(y) for y in years)
    in_2027 = client.get(LIST, {"start_year": "2027"}).content.decode()
    assert "Waterproject 1" in in_2027 and "Waterproject 2" in in_2027
    assert "Waterproject 0" not in in_2027 and "Ander werk" not in in_2027
    assert "startjaar" in page.lower()
