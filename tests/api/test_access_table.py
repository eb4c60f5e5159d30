"""Every endpoint and method against every kind of caller (R11):

- no credentials (or a bad token): 401, and nothing is written;
- another post's editor naming our objects: 404 — exactly as for an object that does not
  exist — and nothing is written;
- our post's viewer writing: 403, and nothing is written;
- ministry staff (not post users): 403 on every endpoint, reads included.
"""

import uuid

import pytest
from django.apps import apps
from django.db.models import Count, Max

from .support import assert_problem

V1 = "/api/v1"


def _project(w):
    return f"{V1}/projects/{w.project.public_id}"


def _indicator(w):
    return f"{_project(w)}/indicators/{w.indicator.public_id}"


PLAN_BODY = {"narrative": "x", "priorities": [{"priority": "women_girls", "amount": "1.00"}]}
PARTNER_BODY = {"name": "N", "partner_type": "local_cso", "country": "KE"}
INDICATOR_BODY = {
    "intended_result": "women_girls.violence",
    "name": "n",
    "unit": "u",
    "baseline": "0",
    "target": "1",
}

# (method, path of a post's world, body); paths name that post's objects.
ENDPOINTS = [
    ("get", lambda w: f"{V1}/me/", None),
    ("get", lambda w: f"{V1}/priorities/", None),
    ("get", lambda w: f"{V1}/priorities/women_girls/", None),
    ("get", lambda w: f"{V1}/fund-years/", None),
    ("get", lambda w: f"{V1}/fund-years/2026/", None),
    ("get", lambda w: f"{V1}/plans/", None),
    ("post", lambda w: f"{V1}/plans/", {"year": 2026}),
    ("get", lambda w: f"{V1}/plans/{w.plan.public_id}/", None),
    ("put", lambda w: f"{V1}/plans/{w.plan.public_id}/", PLAN_BODY),
    ("patch", lambda w: f"{V1}/plans/{w.plan.public_id}/", {"narrative": "x"}),
    ("delete", lambda w: f"{V1}/plans/{w.plan.public_id}/", None),
    ("post", lambda w: f"{V1}/plans/{w.plan.public_id}/submit/", {}),
    (
        "post",
        lambda w: f"{V1}/plans/{w.plan.public_id}/priorities/",
        {"priority": "lgbtiq", "amount": "1.00"},
    ),
    ("get", lambda w: f"{V1}/partners/", None),
    ("post", lambda w: f"{V1}/partners/", PARTNER_BODY),
    ("get", lambda w: f"{V1}/partners/{w.partner.public_id}/", None),
    ("put", lambda w: f"{V1}/partners/{w.partner.public_id}/", PARTNER_BODY),
    ("patch", lambda w: f"{V1}/partners/{w.partner.public_id}/", {"name": "M"}),
    ("get", lambda w: f"{V1}/projects/", None),
    (
        "post",
        lambda w: f"{V1}/projects/",
        lambda w: {
            "partner": str(w.partner.public_id),
            "priority": "women_girls",
            "title": "T",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
    ),
    ("get", lambda w: f"{_project(w)}/", None),
    (
        "put",
        lambda w: f"{_project(w)}/",
        lambda w: {
            "partner": str(w.partner.public_id),
            "priority": "women_girls",
            "title": "T",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
    ),
    ("patch", lambda w: f"{_project(w)}/", {"title": "T"}),
    ("get", lambda w: f"{_project(w)}/indicators/", None),
    ("post", lambda w: f"{_project(w)}/indicators/", INDICATOR_BODY),
    ("get", lambda w: f"{_indicator(w)}/", None),
    ("put", lambda w: f"{_indicator(w)}/", INDICATOR_BODY),
    ("patch", lambda w: f"{_indicator(w)}/", {"name": "m"}),
    ("delete", lambda w: f"{_indicator(w)}/", None),
    ("get", lambda w: f"{_indicator(w)}/values/", None),
    ("post", lambda w: f"{_indicator(w)}/values/", {"year": 2026, "value": "1"}),
    ("get", lambda w: f"{_indicator(w)}/values/2026/", None),
    ("put", lambda w: f"{_indicator(w)}/values/2026/", {"value": "2"}),
    ("patch", lambda w: f"{_indicator(w)}/values/2026/", {"value": "2"}),
    ("delete", lambda w: f"{_indicator(w)}/values/2026/", None),
    ("get", lambda w: f"{V1}/disbursements/", None),
    ("get", lambda w: f"{V1}/disbursements/{w.disbursement.public_id}/", None),
]


def ids(rows):
    """Stable test ids: the row's place in ENDPOINTS and its method."""
    return [f"{ENDPOINTS.index(row):02d}-{row[0]}" for row in rows]


IDS = ids(ENDPOINTS)
WRITES = [row for row in ENDPOINTS if row[0] != "get"]
OBJECT_ROUTES = [row for row in ENDPOINTS if "public_id" in row[1].__code__.co_names or (
    "_project" in row[1].__code__.co_names or "_indicator" in row[1].__code__.co_names
)]  # fmt: skip


def call(client, method, path_of, body_of, world, **headers):
    body = body_of(world) if callable(body_of) else body_of
    return getattr(client, method)(path_of(world), body, format="json", **headers)


def written_state() -> tuple:
    """Every table the API can write: row count and newest id of each, and the audit trail."""
    return tuple(
        tuple(model.objects.aggregate(n=Count("pk"), last=Max("pk")).values())
        for model in apps.get_models()
        if model._meta.app_label in ("grants", "countries")
    )


def state_with_content(world) -> tuple:
    """Also the content of the rows an update would change."""
    own = world.own
    return (
        written_state(),
        tuple(
            type(obj).objects.filter(pk=obj.pk).values().first()
            for obj in (own.plan, own.partner, own.project, own.indicator, own.disbursement)
        ),
    )


@pytest.mark.parametrize(("method", "path_of", "body_of"), ENDPOINTS, ids=IDS)
def test_no_credentials_is_401(api_world, method, path_of, body_of):
    from rest_framework.test import APIClient

    before = state_with_content(api_world)
    anonymous = call(APIClient(), method, path_of, body_of, api_world.own)
    assert_problem(anonymous, 401, "not_authenticated")
    assert anonymous["WWW-Authenticate"] == "Token"
    bad_token = call(
        APIClient(), method, path_of, body_of, api_world.own, HTTP_AUTHORIZATION="Token nonsense"
    )
    assert_problem(bad_token, 401, "authentication_failed")
    assert state_with_content(api_world) == before


@pytest.mark.parametrize(("method", "path_of", "body_of"), OBJECT_ROUTES, ids=ids(OBJECT_ROUTES))
def test_another_posts_object_is_404_as_if_it_did_not_exist_R11(
    api_world, other_api, method, path_of, body_of
):
    """The other post's editor names our post's objects (with a valid If-Match even)."""
    before = state_with_content(api_world)
    response = call(other_api, method, path_of, body_of, api_world.own, HTTP_IF_MATCH="*")
    body = assert_problem(response, 404)
    assert str(api_world.own.post.code) not in response.content.decode()
    # The same answer as for an id that never existed.
    missing = call(
        other_api,
        method,
        lambda w: (
            path_of(w)
            .replace(str(api_world.own.plan.public_id), str(uuid.uuid4()))
            .replace(str(api_world.own.partner.public_id), str(uuid.uuid4()))
            .replace(str(api_world.own.project.public_id), str(uuid.uuid4()))
            .replace(str(api_world.own.disbursement.public_id), str(uuid.uuid4()))
        ),
        body_of,
        api_world.own,
        HTTP_IF_MATCH="*",
    )
    assert missing.status_code == 404
    assert missing.json() == body
    assert state_with_content(api_world) == before


@pytest.mark.parametrize(("method", "path_of", "body_of"), WRITES, ids=ids(WRITES))
def test_a_viewer_who_writes_gets_403(api_world, viewer_api, method, path_of, body_of):
    before = state_with_content(api_world)
    response = call(viewer_api, method, path_of, body_of, api_world.own, HTTP_IF_MATCH="*")
    assert_problem(response, 403)
    assert state_with_content(api_world) == before


@pytest.mark.parametrize(("method", "path_of", "body_of"), ENDPOINTS, ids=IDS)
def test_ministry_staff_get_403_on_the_post_api(api_world, ministry_api, method, path_of, body_of):
    before = state_with_content(api_world)
    response = call(ministry_api, method, path_of, body_of, api_world.own, HTTP_IF_MATCH="*")
    assert_problem(response, 403)
    assert state_with_content(api_world) == before


@pytest.mark.parametrize(("method", "path_of", "body_of"), ENDPOINTS, ids=IDS)
def test_the_viewer_reads_and_the_editor_may_call_every_endpoint(
    api_world, api, viewer_api, method, path_of, body_of
):
    """The table's counterpart: the post's own users are let through (no 401/403/404)."""
    client = viewer_api if method == "get" else api
    response = call(client, method, path_of, body_of, api_world.own, HTTP_IF_MATCH="*")
    assert response.status_code not in (401, 403, 404, 405, 500), response.content[:400]


def test_lists_show_only_the_callers_post_R11(api_world, other_api):
    own = api_world.own
    for path, own_id in [
        ("plans", own.plan.public_id),
        ("partners", own.partner.public_id),
        ("projects", own.project.public_id),
        ("disbursements", own.disbursement.public_id),
    ]:
        response = other_api.get(f"{V1}/{path}/")
        assert response.status_code == 200
        ids = [row["id"] for row in response.json()["results"]]
        assert len(ids) == 1
        assert str(own_id) not in ids
    me = other_api.get(f"{V1}/me/").json()
    assert me["post"]["code"] == api_world.other.post.code


def test_an_unknown_path_under_the_api_is_a_problem_not_a_page(api, client):
    assert_problem(api.get(f"{V1}/nothing-here/"), 404, "not_found")
    assert_problem(api.get(f"{V1}/plans/not-a-uuid/"), 404, "not_found")
    assert_problem(client.get(f"{V1}/nothing-here/"), 401)
