"""Each list endpoint costs a constant number of queries, whatever the page size."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants import services
from grants.models import Project
from priorities.models import IntendedResult
from tests.helpers import priority

V1 = "/api/v1"


def add_projects(world, count: int) -> None:
    own = world.own
    result = IntendedResult.objects.filter(priority__code="women_girls").order_by("pk").first()
    for index in range(count):
        project = services.project_create(
            actor=world.admin,
            post=own.post,
            partner=own.partner,
            priority=priority("women_girls"),
            title=f"Bulk {index}",
            start_date=date(2026, 1, 1),
            end_date=date(2027, 12, 31),
            status="active",
            intended_results=[result],
            budget={2026: Decimal("1000.00")},
        )
        indicator = services.indicator_save(
            actor=world.admin,
            project=project,
            intended_result=result,
            name=f"Indicator {index}",
            unit="people",
            baseline=0,
            target=10,
        )
        services.indicator_value_set(actor=world.admin, indicator=indicator, year=2026, value=1)
        services.disbursement_create(
            actor=world.admin, project=project, date=date(2026, 6, 1), amount=Decimal("10.00")
        )
        # The first project's indicators grow as well (the nested lists).
        extra = services.indicator_save(
            actor=world.admin,
            project=own.project,
            intended_result=result,
            name=f"Extra {index}",
            unit="people",
            baseline=0,
            target=10,
        )
        services.indicator_value_set(actor=world.admin, indicator=extra, year=2026, value=2)


LISTS = [
    lambda w: f"{V1}/projects/?page_size=100",
    lambda w: f"{V1}/partners/?page_size=100",
    lambda w: f"{V1}/plans/?page_size=100",
    lambda w: f"{V1}/disbursements/?page_size=100",
    lambda w: f"{V1}/fund-years/",
    lambda w: f"{V1}/priorities/",
    lambda w: f"{V1}/projects/{w.own.project.public_id}/indicators/?page_size=100",
    lambda w: (
        f"{V1}/projects/{w.own.project.public_id}/indicators/{w.own.indicator.public_id}/values/"
    ),
]


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


@pytest.mark.parametrize("url_of", LISTS, ids=[str(i) for i in range(len(LISTS))])
def test_list_queries_do_not_grow_with_the_number_of_rows(
    api_world, api, url_of, django_assert_max_num_queries
):
    url = url_of(api_world)
    # Once first: a process builds the read log's pattern of confidential names when they
    # changed (readlog.selectors), once, not per row.
    api.get(url)
    small = queries_of(api, url)
    add_projects(api_world, 12)
    assert Project.objects.filter(post=api_world.own.post).count() == 13
    with django_assert_max_num_queries(small):
        api.get(url)
    # Enough to catch one query per row: 13 projects would add at least 12.
    assert small <= 12


def test_the_project_list_shows_each_project_exactly_as_its_detail(api_world, api):
    """The list is built from rows for speed; it must say what the serializer says."""
    add_projects(api_world, 3)
    listed = api.get(f"{V1}/projects/?page_size=100").json()["results"]
    assert len(listed) == 4
    for item in listed:
        assert item == api.get(f"{V1}/projects/{item['id']}/").json()


def test_the_project_lists_count_is_of_the_filtered_projects(api_world, api):
    add_projects(api_world, 3)
    page = api.get(f"{V1}/projects/?page_size=2&status=active").json()
    active = Project.objects.filter(post=api_world.own.post, status="active").count()
    assert page["count"] == active and len(page["results"]) == 2
    partner = api_world.own.partner.public_id
    by_partner = api.get(f"{V1}/projects/?partner={partner}&status=active").json()
    own = Project.objects.filter(post=api_world.own.post, partner=api_world.own.partner)
    assert by_partner["count"] == own.filter(status="active").count()


def test_the_token_brings_the_callers_membership_with_it(api_world, api):
    """The access check's membership and post are read in the token's query
    (config.authentication): no query of its own on any request."""
    with CaptureQueriesContext(connection) as captured:
        assert api.get(f"{V1}/me/").status_code == 200
    assert not [q for q in captured if q["sql"].startswith('SELECT "countries_postmembership"')]
    token_query = next(q["sql"] for q in captured if 'FROM "knox_authtoken"' in q["sql"])
    assert '"countries_postmembership"' in token_query and '"countries_post"' in token_query


@pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="on PostgreSQL the project page and its count are one statement (test_json_pages)",
)
def test_a_first_page_that_holds_everything_is_not_counted_again(api_world, api):
    """The first page is read with one row more than it shows: when the list fits, its
    length is the count (no count query); when it does not, the count and the next page's
    link are as ever. (The plan list's check below holds on every database.)"""
    add_projects(api_world, 2)  # 3 projects in all
    for size, count_queries, has_next in ((3, 0, False), (5, 0, False), (2, 1, True)):
        with CaptureQueriesContext(connection) as captured:
            page = api.get(f"{V1}/projects/?page_size={size}").json()
        counted = [q for q in captured if "COUNT(" in q["sql"].upper()]
        assert len(counted) == count_queries, (size, counted)
        assert page["count"] == 3 and len(page["results"]) == min(size, 3)
        assert (page["next"] is not None) == has_next
    second = api.get(f"{V1}/projects/?page_size=2&page=2").json()
    assert second["count"] == 3 and len(second["results"]) == 1 and second["next"] is None
    with CaptureQueriesContext(connection) as captured:
        plans = api.get(f"{V1}/plans/").json()
    assert not [q for q in captured if "COUNT(" in q["sql"].upper()]
    assert plans["count"] == len(plans["results"])


def test_a_plans_steps_and_aims_are_read_with_it(api_world, api):
    """Whether a step was taken by a user of the post is read with the steps, not by a query
    of the post's members; on PostgreSQL each chosen priority brings its aims' codes as an
    array, not through a query of the aims (R11, R13)."""
    services.plan_submit(actor=api_world.admin, plan=api_world.own.plan)
    with CaptureQueriesContext(connection) as captured:
        listed = api.get(f"{V1}/plans/").json()["results"]
    assert listed and listed[0]["transitions"] and listed[0]["priorities"][0]["intended_results"]
    members = [q for q in captured if q["sql"].startswith('SELECT "countries_postmembership"')]
    assert not members  # the caller's own membership comes with the token
    aims_alone = [q for q in captured if q["sql"].startswith('SELECT "grants_planaim"')]
    assert len(aims_alone) == (0 if connection.vendor == "postgresql" else 1)
    for plan in listed:
        assert plan == api.get(f"{V1}/plans/{plan['id']}/").json()
