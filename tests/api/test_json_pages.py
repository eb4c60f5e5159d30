"""The project list's page as PostgreSQL writes it (grants.api.pages): each item exactly what
the detail (the serializer) says, for every filter, search, ordering and page; elsewhere the
serializer writes the list, and the same checks hold."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.fields import DateTimeField

from fund.renderers import JSONRenderer, PreRendered
from grants import services
from grants.api import pages
from grants.models import BudgetLine, Partner, PartnerType, Project
from grants.services import ChosenPriority
from priorities.models import IntendedResult
from tests.factories import country
from tests.helpers import priority

V1 = "/api/v1"
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the page is written by PostgreSQL"
)

# Texts a JSON writer must escape, or may be tempted to: quotes, a backslash, markup,
# non-ASCII, LIKE's wildcards (the fund refuses control and invisible characters, R11).
AWKWARD = 'Quote " back\\slash <b>&amp;</b> ë 漢 🙂 100% _x_'
LINES = AWKWARD + "\nA second line,\tand a tab."


@pytest.fixture
def listed_world(api_world):
    """Five more own projects unlike one another: two partners, two priorities, several
    budget lines or none of a year, payments or none, results or none, summer and winter
    times, a time without microseconds, an awkward text."""
    admin, own = api_world.admin, api_world.own
    services.plan_priorities_set(  # a second priority (R4)
        actor=admin,
        plan=own.plan,
        items=[
            ChosenPriority(priority("women_girls"), Decimal("400000.00")),
            ChosenPriority(priority("expression"), Decimal("100000.00")),
        ],
    )
    second_partner = services.partner_save(
        actor=admin,
        post=own.post,
        name="Second partner",
        partner_type=PartnerType.LOCAL_CSO,
        country=country("KE"),
    )
    results = list(IntendedResult.objects.filter(priority__code="women_girls").order_by("code"))
    specs = [
        ("Listed alpha", own.partner, "women_girls", "active", {2026: "1000.50"}, results[:2]),
        ("Listed beta " + AWKWARD, second_partner, "women_girls", "planned", {}, []),
        ("Listed gamma", second_partner, "expression", "active", {2026: "1", 2027: "2"}, []),
        ("Other delta", own.partner, "expression", "completed", {2027: "999999.99"}, []),
        ("Other epsilon", own.partner, "women_girls", "active", {2026: "0.01"}, results[-1:]),
    ]
    created = []
    for title, partner, code, status, budget, served in specs:
        project = services.project_create(
            actor=admin,
            post=own.post,
            partner=partner,
            priority=priority(code),
            title=title,
            description=LINES if "beta" in title else f"About {title}",
            start_date=date(2026, 1, 1),
            end_date=date(2027, 12, 31),
            status=status,
            intended_results=served,
            budget={year: Decimal(amount) for year, amount in budget.items() if year == 2026},
        )
        for year, amount in budget.items():  # 2027 is not a fund year in this world (R6)
            if year != 2026:
                BudgetLine.objects.create(project=project, year=year, amount=Decimal(amount))
        created.append(project)
    services.disbursement_create(
        actor=admin, project=created[0], date=date(2026, 6, 1), amount=Decimal("300.25")
    )
    moments = [
        datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC),  # summer time, no microseconds
        datetime(2026, 1, 15, 23, 30, 0, 5, tzinfo=UTC),  # winter, the next local day
        datetime(2025, 10, 26, 0, 59, 59, 999999, tzinfo=UTC),  # just before the change
        datetime(2025, 10, 26, 1, 0, 0, tzinfo=UTC),  # just after
        datetime(2026, 3, 29, 1, 0, 0, 100000, tzinfo=UTC),
    ]
    for project, moment in zip(created, moments, strict=True):
        Project.objects.filter(pk=project.pk).update(
            created_at=moment, updated_at=moment + timedelta(seconds=1)
        )
    return api_world


def _queries(api_world) -> list[tuple[str, object]]:
    """Query strings of the list and the projects each must list, in order (the ORM's
    reading of the same filter, search and ordering)."""
    own = Project.objects.filter(post=api_world.own.post)
    partner = Partner.objects.get(post=api_world.own.post, name="Second partner")
    default = ("start_date", "title", "pk")
    active_2026 = own.filter(budget_lines__year=2026, status="active", priority__code="women_girls")
    others = own.filter(title__icontains="other")
    return [
        ("", own.order_by(*default)),
        ("?page_size=2", own.order_by(*default)[:2]),
        ("?page_size=2&page=2", own.order_by(*default)[2:4]),
        ("?page_size=4&page=2", own.order_by(*default)[4:8]),
        ("?status=active", own.filter(status="active").order_by(*default)),
        ("?priority=expression", own.filter(priority__code="expression").order_by(*default)),
        (f"?partner={partner.public_id}", own.filter(partner=partner).order_by(*default)),
        ("?year=2027", own.filter(budget_lines__year=2027).order_by(*default)),
        ("?year=2026&status=active&priority=women_girls", active_2026.order_by(*default)),
        ("?search=listed", own.filter(title__icontains="listed").order_by(*default)),
        ("?search=LISTED%20ALPHA", own.filter(title__icontains="listed alpha").order_by(*default)),
        (f"?search={quote('100%')}", own.filter(title__icontains="100%").order_by(*default)),
        ("?search=_x_", own.filter(title__icontains="_x_").order_by(*default)),
        ("?search=nothing-like-it", own.none()),
        ("?ordering=-title", own.order_by("-title", "pk")),
        ("?ordering=status,-created_at", own.order_by("status", "-created_at", "pk")),
        ("?ordering=updated_at&search=other", others.order_by("updated_at", "pk")),
        ("?ordering=unknown", own.order_by(*default)),
    ]


def test_every_listed_project_equals_its_detail_for_each_filter_search_order_and_page(
    listed_world, api
):
    details = {}
    for query, expected in _queries(listed_world):
        page = api.get(f"{V1}/projects/{query}").json()
        listed = [item["id"] for item in page["results"]]
        assert listed == [str(project.public_id) for project in expected], query
        for item in page["results"]:
            if item["id"] not in details:
                details[item["id"]] = api.get(f"{V1}/projects/{item['id']}/").json()
            assert item == details[item["id"]], query
    assert len(details) == 6  # every project was listed at least once
    awkward = next(item for item in details.values() if "beta" in item["title"])
    assert awkward["description"] == LINES and awkward["budget"] == []


def test_the_pages_count_and_links_follow_the_filter(listed_world, api):
    active = Project.objects.filter(post=listed_world.own.post, status="active").count()
    first = api.get(f"{V1}/projects/?status=active&page_size=2").json()
    assert first["count"] == active and first["previous"] is None
    assert first["next"].endswith("/api/v1/projects/?page=2&page_size=2&status=active")
    last = api.get(f"{V1}/projects/?status=active&page_size=2&page=2").json()
    assert last["next"] is None and last["previous"].endswith("page_size=2&status=active")
    empty = api.get(f"{V1}/projects/?search=nothing-like-it").json()
    assert empty == {"count": 0, "next": None, "previous": None, "results": []}


def test_bad_pages_and_filters_are_refused_as_before(listed_world, api):
    for path in ("projects/?page=99", "projects/?page=200000000000000000", "plans/?page=2"):
        beyond = api.get(f"{V1}/{path}")  # the second's offset is past PostgreSQL's bigint
        assert beyond.status_code == 404, path
        assert beyond["Content-Type"] == "application/problem+json"
    for query, field in (
        ("?page=0", "page"),
        ("?page_size=lots", "page_size"),
        ("?status=unheard-of", "status"),
        ("?year=twenty", "year"),
        ("?partner=not-a-uuid", "partner"),
        ("?search=nul%00byte", "search"),
    ):
        response = api.get(f"{V1}/projects/{query}")
        assert response.status_code == 400, query
        assert field in json.dumps(response.json()["errors"]), (query, response.json())


def test_another_posts_projects_are_never_listed(listed_world, api):
    other = str(listed_world.other.project.public_id)
    for query, _expected in _queries(listed_world):
        assert other not in api.get(f"{V1}/projects/{query}").content.decode(), query
    other_partner = listed_world.other.partner.public_id
    assert api.get(f"{V1}/projects/?partner={other_partner}").json()["count"] == 0


@on_postgresql
def test_on_postgresql_a_project_page_is_one_statement_with_its_count(listed_world, api):
    api.get(f"{V1}/projects/")  # the read log's pattern is built once per process
    with CaptureQueriesContext(connection) as captured:
        page = api.get(f"{V1}/projects/?page_size=2&status=active").json()
    own = [q["sql"] for q in captured if "knox_authtoken" not in q["sql"]]
    assert len(own) == 1, own
    assert "COUNT(*)" in own[0] and "json_agg" in own[0]
    assert (
        page["count"] == Project.objects.filter(post=listed_world.own.post, status="active").count()
    )
    # The count reads the projects alone (a join in a count costs PostgreSQL 3.2 against
    # 0.5 ms for 2 780 projects, docs/performance.md).
    count = own[0].split("(SELECT COUNT(*) FROM grants_project t WHERE ", 1)[1].split(")")[0]
    assert "JOIN" not in count.upper()


def prepared_pages() -> list[tuple[str, int, int]]:
    """The page statements prepared on the test's connection: (text, generic, custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ["%WITH page AS%"],
        )
        return cursor.fetchall()


@on_postgresql
def test_on_postgresql_a_page_statement_is_prepared_once_and_then_planned_once(listed_world, api):
    """Planning the statement cost twice what running it does; prepared with the page's limit
    and offset in its text, PostgreSQL keeps one generic plan for it (docs/performance.md)."""
    answers = [api.get(f"{V1}/projects/?page_size=2").json() for _ in range(8)]
    assert all(answer == answers[0] for answer in answers)
    [(text, generic, custom)] = prepared_pages()
    assert "LIMIT 2 OFFSET 0" in text and "%(" not in text and "$1" in text
    assert generic + custom == 8
    assert generic >= 1  # after its five custom plans, the generic one is kept
    # Another page is another statement; the plan list has its own.
    second = api.get(f"{V1}/projects/?page_size=2&page=2").json()
    api.get(f"{V1}/plans/")
    assert len(prepared_pages()) == 3
    assert second["results"] and second["results"][0] not in answers[0]["results"]


@on_postgresql
def test_on_postgresql_with_prepared_statements_off_the_page_is_the_same(
    listed_world, api, monkeypatch
):
    """DJANGO_DB_PREPARED_STATEMENTS=false (behind a transaction pooler): nothing prepared,
    the same page."""
    prepared = api.get(f"{V1}/projects/?page_size=3&ordering=-title").json()
    connection.connection.execute("DEALLOCATE ALL")
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    assert api.get(f"{V1}/projects/?page_size=3&ordering=-title").json() == prepared
    assert prepared_pages() == []


@on_postgresql
@pytest.mark.django_db
@settings(max_examples=60, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    whole_second=st.booleans(),
    zone=st.sampled_from(
        ["Europe/Amsterdam", "UTC", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham"]
    ),
)
def test_the_sql_timestamp_is_what_drfs_datetime_field_writes(moment, whole_second, zone):
    if whole_second:
        moment = moment.replace(microsecond=0)
    written_by_sql = pages.iso_datetime("given.at")
    with timezone.override(zone), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {written_by_sql} FROM (SELECT %(at)s::timestamptz AS at) given",
            {"at": moment, "tz": timezone.get_current_timezone_name()},
        )
        (written,) = cursor.fetchone()
        assert written == DateTimeField().to_representation(moment)


def test_pre_rendered_json_is_put_in_place_and_the_rest_rendered_as_ever():
    text = JSONRenderer().render(
        {"count": 2, "next": None, "note": "ë", "results": PreRendered('[{"a": 1}, {"b": "\\n"}]')}
    )
    assert json.loads(text) == {
        "count": 2,
        "next": None,
        "note": "ë",
        "results": [{"a": 1}, {"b": "\n"}],
    }
    assert JSONRenderer().render({"plain": [1]}) == b'{"plain":[1]}'


def test_every_listed_plan_equals_its_detail_with_its_steps_and_filters(api_world, api):
    """The plan list (on PostgreSQL one statement, grants.api.pages): priorities with their
    aims in order, steps naming the post's own user and "ministry" for the ministry's (R11),
    `editable` by status (R10)."""
    plan_url = f"{V1}/plans/{api_world.own.plan.public_id}/"
    assert api.post(f"{plan_url}submit/", {"comment": AWKWARD}).status_code == 200
    services.plan_return(actor=api_world.admin, plan=api_world.own.plan, comment="Graag meer.")
    for query, expected in (
        ("", [api_world.own.plan]),
        ("?year=2026", [api_world.own.plan]),
        ("?year=2027", []),
        ("?status=returned", [api_world.own.plan]),
        ("?status=draft", []),
        ("?status=returned&year=2026&page_size=1", [api_world.own.plan]),
    ):
        page = api.get(f"{V1}/plans/{query}").json()
        assert [item["id"] for item in page["results"]] == [str(p.public_id) for p in expected]
        assert page["count"] == len(expected)
        for item in page["results"]:
            assert item == api.get(f"{V1}/plans/{item['id']}/").json(), query
    listed = api.get(f"{V1}/plans/").json()["results"][0]
    assert [step["by"] for step in listed["transitions"]][-2:] == ["own-editor", "ministry"]
    assert listed["transitions"][-2]["comment"] == AWKWARD and listed["editable"] is True
    assert listed["priorities"][0]["intended_results"]  # a new priority aims at all its results
    assert str(api_world.other.plan.public_id) not in api.get(f"{V1}/plans/").content.decode()
    assert api.get(f"{V1}/plans/?status=unheard-of").status_code == 400
