"""HTTP behaviour of the embassy API: ETag/If-Match, Idempotency-Key, strict input, the
request's language, throttling, pagination and filters."""

import json

import pytest
from django.core.cache import cache

from grants.models import Partner, Project

from .support import assert_problem

V1 = "/api/v1"


def plan_url(world):
    return f"{V1}/plans/{world.own.plan.public_id}/"


# --- ETag / If-Match ---------------------------------------------------------------------


def test_a_read_carries_an_etag_and_if_none_match_gets_304(api_world, api):
    response = api.get(plan_url(api_world))
    etag = response["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    again = api.get(plan_url(api_world), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""


def test_a_write_without_if_match_is_428_and_changes_nothing(api_world, api):
    response = api.patch(plan_url(api_world), {"narrative": "mine"})
    assert_problem(response, 428, "if_match_required")
    api_world.own.plan.refresh_from_db()
    assert api_world.own.plan.narrative == ""


def test_two_colleagues_with_the_same_etag_cannot_both_write(api_world, api):
    etag = api.get(plan_url(api_world))["ETag"]
    first = api.patch(plan_url(api_world), {"narrative": "first"}, HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first["ETag"] != etag
    second = api.patch(plan_url(api_world), {"narrative": "second"}, HTTP_IF_MATCH=etag)
    assert_problem(second, 412, "stale_etag")
    api_world.own.plan.refresh_from_db()
    assert api_world.own.plan.narrative == "first"
    third = api.patch(plan_url(api_world), {"narrative": "third"}, HTTP_IF_MATCH=first["ETag"])
    assert third.status_code == 200


def test_the_etag_changes_when_the_priorities_change(api_world, api):
    etag = api.get(plan_url(api_world))["ETag"]
    added = api.post(f"{plan_url(api_world)}priorities/", {"priority": "lgbtiq", "amount": "1"})
    assert added.status_code == 200
    assert api.get(plan_url(api_world))["ETag"] == added["ETag"] != etag
    stale = api.delete(plan_url(api_world), HTTP_IF_MATCH=etag)
    assert_problem(stale, 412)


def test_a_project_update_needs_the_current_etag(api_world, api):
    url = f"{V1}/projects/{api_world.own.project.public_id}/"
    etag = api.get(url)["ETag"]
    assert_problem(api.patch(url, {"title": "New"}), 428)
    assert api.patch(url, {"title": "New"}, HTTP_IF_MATCH=etag).status_code == 200
    assert_problem(api.patch(url, {"title": "Newer"}, HTTP_IF_MATCH=etag), 412)
    assert Project.objects.get(pk=api_world.own.project.pk).title == "New"


# --- Idempotency-Key ---------------------------------------------------------------------


PARTNER = {"name": "Retry Foundation", "partner_type": "local_cso", "country": "KE"}


def test_a_retried_create_with_the_same_key_returns_the_first_result(api_world, api):
    first = api.post(f"{V1}/partners/", PARTNER, HTTP_IDEMPOTENCY_KEY="create-partner-1")
    assert first.status_code == 201
    retry = api.post(f"{V1}/partners/", PARTNER, HTTP_IDEMPOTENCY_KEY="create-partner-1")
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert retry["Location"] == first["Location"]
    assert Partner.objects.filter(name="Retry Foundation").count() == 1


def test_without_a_key_a_second_create_is_a_second_request(api_world, api):
    assert api.post(f"{V1}/partners/", PARTNER).status_code == 201
    assert_problem(api.post(f"{V1}/partners/", PARTNER), 400, "invalid", "name")


def test_a_key_reused_for_another_body_is_422(api_world, api):
    assert api.post(f"{V1}/partners/", PARTNER, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    other = {**PARTNER, "name": "Other Foundation"}
    response = api.post(f"{V1}/partners/", other, HTTP_IDEMPOTENCY_KEY="k-1")
    assert_problem(response, 422, "idempotency_key_reused")
    assert not Partner.objects.filter(name="Other Foundation").exists()


def test_keys_belong_to_their_user(api_world, api, other_api):
    """Another user's identical key is their own: no replay of someone else's response."""
    assert api.post(f"{V1}/partners/", PARTNER, HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    theirs = other_api.post(f"{V1}/partners/", PARTNER, HTTP_IDEMPOTENCY_KEY="same")
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert Partner.objects.filter(name="Retry Foundation").count() == 2


def test_a_key_is_forgotten_after_its_lifetime(api_world, api):
    from datetime import timedelta

    from django.utils import timezone

    from grants.models import IdempotentRequest

    assert api.post(f"{V1}/partners/", PARTNER, HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    other = {**PARTNER, "name": "Next Year Foundation"}
    assert api.post(f"{V1}/partners/", other, HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    assert IdempotentRequest.objects.get().response_body["name"] == "Next Year Foundation"


def test_a_refused_create_is_not_stored_so_a_corrected_retry_works(api_world, api):
    bad = {**PARTNER, "country": "XX"}
    assert_problem(api.post(f"{V1}/partners/", bad, HTTP_IDEMPOTENCY_KEY="k-2"), 400)
    response = api.post(f"{V1}/partners/", bad, HTTP_IDEMPOTENCY_KEY="k-2")
    assert_problem(response, 400, "invalid", "country")


def test_a_retried_submit_is_not_a_conflict(api_world, api):
    url = f"{plan_url(api_world)}submit/"
    first = api.post(url, {}, HTTP_IDEMPOTENCY_KEY="submit-2026")
    assert first.status_code == 200
    assert api.post(url, {}, HTTP_IDEMPOTENCY_KEY="submit-2026").json() == first.json()
    assert_problem(api.post(url, {}), 409, "R10")


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "ünïcode"])
def test_a_malformed_key_is_400(api_world, api, key):
    response = api.post(f"{V1}/partners/", PARTNER, HTTP_IDEMPOTENCY_KEY=key)
    assert_problem(response, 400, field="Idempotency-Key")
    assert not Partner.objects.filter(name="Retry Foundation").exists()


# --- Strict input: 400, never 500 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"narrative": "x", "colour": "red"}, "colour", "unknown_field"),
        ({"narrative": 5}, None, None),  # a number is read as text by DRF: accepted
        ({"priorities": "women_girls"}, "priorities", "not_a_list"),
        ({"priorities": [{"priority": "lgbtiq", "amount": "NaN"}]}, "priorities.0.amount", None),
        ({"priorities": [{"priority": "lgbtiq", "amount": "1e400"}]}, "priorities.0.amount", None),
        ({"priorities": [{"priority": "lgbtiq", "amount": 10**30}]}, "priorities.0.amount", None),
        ({"priorities": [{"priority": "lgbtiq", "amount": "-1"}]}, "priorities.0.amount", None),
        ({"priorities": [{"priority": "x", "amount": "1", "y": 1}]}, "priorities.0.y", None),
        ({"narrative": None}, "narrative", "null"),
    ],
)
def test_bad_plan_input_is_400_naming_the_field(api_world, api, body, field, code):
    response = api.patch(plan_url(api_world), body, HTTP_IF_MATCH="*")
    if field is None:
        assert response.status_code == 200
        return
    problem = assert_problem(response, 400, code, field)
    assert problem["type"].endswith(":invalid-input")


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[1, 2]", b"null", b'"text"', b'{"narrative": NaN}', b'{"narrative": Infinity}'],
)
def test_malformed_json_is_400(api_world, api, raw):
    response = api.generic(
        "PATCH", plan_url(api_world), raw, content_type="application/json", HTTP_IF_MATCH="*"
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "*/*", "application/*"]
)
def test_a_body_that_is_not_said_to_be_json_is_415(api_world, api, content_type):
    body = "name=x" if "form" in content_type else json.dumps({"name": "Nieuw"})
    response = api.generic("POST", f"{V1}/partners/", body, content_type=content_type)
    assert_problem(response, 415)
    assert not Partner.objects.filter(name="Nieuw").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_date": "99999-01-01"}, "start_date"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"budget": [{"year": 10**20, "amount": "1"}]}, "budget.0.year"),
        ({"budget": [{"year": "2026.5", "amount": "1"}]}, "budget.0.year"),
        ({"budget": [{"year": 2026, "amount": "1"}, {"year": 2026, "amount": "2"}]}, None),
        ({"intended_results": "women_girls.violence"}, "intended_results"),
        ({"partner": "not-a-uuid"}, "partner"),
        ({"status": "finished"}, "status"),
        ({"title": "x" * 251}, "title"),
        ({"title": ""}, "title"),
        # Digits Python reads but nobody writes in a form: refused, not guessed at.
        ({"start_date": "2028-1-1"}, "start_date"),
        ({"start_date": "\uff12\uff10\uff12\uff18-01-01"}, "start_date"),
        ({"budget": [{"year": 2026, "amount": "1_000"}]}, "budget.0.amount"),
        ({"budget": [{"year": 2026, "amount": "\u0661\u0660\u0660"}]}, "budget.0.amount"),
        # Texts no file or e-mail of the fund can carry.
        ({"title": "Aantal \u0001 personen"}, "title"),
        ({"title": "Rechten \u202evoor\u202c allen"}, "title"),
        ({"description": "zero\u200bwidth"}, "description"),
    ],
)
def test_bad_project_input_is_400(api_world, api, changes, field):
    url = f"{V1}/projects/{api_world.own.project.public_id}/"
    before = api.get(url).json()
    response = api.patch(url, changes, HTTP_IF_MATCH="*")
    body = assert_problem(response, 400)
    if field is not None:
        assert body["errors"][0]["field"] == field
    assert api.get(url).json() == before


# --- Language --------------------------------------------------------------------------------


def test_messages_come_in_the_requests_language(api_world, api):
    english = api.post(f"{V1}/partners/", {}, HTTP_ACCEPT_LANGUAGE="en").json()
    dutch = api.post(f"{V1}/partners/", {}, HTTP_ACCEPT_LANGUAGE="nl").json()
    assert english["errors"][0]["message"] == "This field is required."
    assert dutch["errors"][0]["message"].startswith("Dit veld is")


def test_rule_errors_come_in_the_requests_language(api_world, api):
    three = [{"priority": c, "amount": "1"} for c in ("women_girls", "lgbtiq", "expression")]
    url = plan_url(api_world)
    english = api.patch(url, {"priorities": three}, HTTP_IF_MATCH="*", HTTP_ACCEPT_LANGUAGE="en")
    dutch = api.patch(url, {"priorities": three}, HTTP_IF_MATCH="*", HTTP_ACCEPT_LANGUAGE="nl")
    assert "at most 2" in english.json()["detail"]
    assert english.json()["title"] == "A rule of the fund is not met."
    assert "maximaal 2" in dutch.json()["detail"]
    assert dutch.json()["title"] != english.json()["title"]


# --- Throttling ------------------------------------------------------------------------------


def test_too_many_requests_get_429_with_retry_after(api_world, api, settings):
    settings.API_USER_THROTTLE_RATE = "3/minute"
    cache.clear()
    try:
        statuses = [api.get(f"{V1}/me/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = api.get(f"{V1}/me/")
        assert_problem(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
    finally:
        cache.clear()


def test_the_throttle_counts_each_window_of_its_period_and_names_its_end(
    api_world, api, settings, monkeypatch
):
    from grants.api.base import PostUserThrottle

    settings.API_USER_THROTTLE_RATE = "2/minute"
    cache.clear()
    clock = [60 * 16_667 + 20.0]  # 20 seconds into a clock minute
    monkeypatch.setattr(PostUserThrottle, "timer", lambda self: clock[0])
    try:
        statuses = [api.get(f"{V1}/me/").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert int(api.get(f"{V1}/me/")["Retry-After"]) == 40  # the minute's end
        clock[0] += 39.5
        assert api.get(f"{V1}/me/").status_code == 429  # still the same minute
        clock[0] += 0.5
        assert [api.get(f"{V1}/me/").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        cache.clear()


# --- Lists ------------------------------------------------------------------------------------


def test_project_lists_filter_search_order_and_cap_the_page_size(api_world, api):
    for index in range(3):
        response = api.post(
            f"{V1}/projects/",
            {
                "partner": str(api_world.own.partner.public_id),
                "priority": "women_girls",
                "title": f"Listed {index}",
                "start_date": "2026-01-01",
                "end_date": "2026-12-31",
                "budget": [{"year": 2026, "amount": "1000.00"}],
            },
        )
        assert response.status_code == 201
    page = api.get(f"{V1}/projects/?page_size=1000").json()
    assert page["count"] == 4
    assert len(page["results"]) == 4
    titles = [
        p["title"]
        for p in api.get(f"{V1}/projects/?search=listed&ordering=-title").json()["results"]
    ]
    assert titles == ["Listed 2", "Listed 1", "Listed 0"]
    assert api.get(f"{V1}/projects/?status=active").json()["count"] == 1
    assert api.get(f"{V1}/projects/?year=2026&priority=women_girls").json()["count"] == 4
    assert api.get(f"{V1}/projects/?year=2027").json()["count"] == 0
    other_partner = api_world.other.partner.public_id
    assert api.get(f"{V1}/projects/?partner={other_partner}").json()["count"] == 0
    assert_problem(api.get(f"{V1}/projects/?status=nonsense"), 400, field="status")
    assert_problem(api.get(f"{V1}/projects/?page=99"), 404)


def test_the_page_size_is_capped_at_100(api_world, api):
    from grants.api.views.common import ApiPagination

    assert ApiPagination.max_page_size == 100
    data = api.get(f"{V1}/projects/?page_size=101").json()
    assert data["next"] is None  # one project: no further page


def test_me_names_the_post_role_and_years(api_world, api, viewer_api):
    me = api.get(f"{V1}/me/").json()
    assert me == {
        "username": "own-editor",
        "post": {
            "code": api_world.own.post.code,
            "name": api_world.own.post.name,
            "kind": "bilateral",
            "city": api_world.own.post.city,
        },
        "role": "editor",
        "years": [2026],
    }
    assert viewer_api.get(f"{V1}/me/").json()["role"] == "viewer"


def test_fund_years_show_the_posts_money(api_world, api):
    [year] = api.get(f"{V1}/fund-years/").json()["results"]
    assert year["participates"] is True
    assert year["plan"] == str(api_world.own.plan.public_id)
    assert year["money"] == {
        "allocated": "1000000.00",
        "in_plan": "400000.00",
        "planned": "0.00",
        "committed": "100000.00",
        "disbursed": "25000.00",
        "remaining": "900000.00",
    }


def test_priorities_list_the_5_plus_1_with_their_intended_results(api_world, api):
    priorities = api.get(f"{V1}/priorities/").json()["results"]
    assert len(priorities) == 6
    assert [p["is_plus_one"] for p in priorities].count(True) == 1
    assert all(p["intended_results"] for p in priorities)


def test_the_json_of_a_problem_is_documented_json(api_world, api):
    raw = api.post(f"{V1}/plans/", {"year": "soon"}).content
    body = json.loads(raw)
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["errors"] == [
        {"field": "year", "code": "invalid", "message": body["errors"][0]["message"]}
    ]


# --- Found in review ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON reader can go
        b'{"narrative": "a", "narrative": "b"}',  # a key given twice
    ],
)
def test_unreadable_json_is_400_not_500(api_world, api, raw):
    response = api.generic(
        "PATCH", plan_url(api_world), raw, content_type="application/json", HTTP_IF_MATCH="*"
    )
    assert_problem(response, 400, "parse_error")
    api_world.own.plan.refresh_from_db()
    assert api_world.own.plan.narrative == ""


@pytest.mark.parametrize(
    ("raw", "dutch"),
    [
        (b'{"narrative": ', "regel 1, kolom 15"),
        (b'{"narrative": "a", "narrative": "b"}', "“narrative”"),
        (b'{"narrative": NaN}', "NaN"),
    ],
)
def test_a_parse_error_is_said_in_the_readers_language(api_world, api, raw, dutch):
    """Issue 20: no raw parser message ("Expecting value: …") and no Markdown in details."""
    response = api.generic("PATCH", plan_url(api_world), raw, content_type="application/json",
                           HTTP_IF_MATCH="*", HTTP_ACCEPT_LANGUAGE="nl")  # fmt: skip
    problem = assert_problem(response, 400, "parse_error")
    message = problem["errors"][0]["message"]
    assert message.startswith("De inhoud is geen geldige JSON") and dutch in message
    assert "Expecting" not in message and "`" not in problem["detail"]
    invalid = api.patch(plan_url(api_world), {"narrative": 5, "nope": 1}, HTTP_IF_MATCH="*",
                        HTTP_ACCEPT_LANGUAGE="nl").json()  # fmt: skip
    assert "`" not in invalid["detail"] and "fout" in invalid["detail"]


def test_a_body_beyond_the_upload_limit_is_413(api_world, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"narrative": "x" * 2000}
    response = api.patch(plan_url(api_world), body, HTTP_IF_MATCH="*")
    assert_problem(response, 413, "too_large")


def test_a_weak_etag_never_matches_if_match(api_world, api):
    etag = api.get(plan_url(api_world))["ETag"]
    response = api.patch(plan_url(api_world), {"narrative": "x"}, HTTP_IF_MATCH=f"W/{etag}")
    assert_problem(response, 412)
    assert api.get(plan_url(api_world), HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304


def test_a_replayed_create_carries_the_etag(api_world, api):
    first = api.post(f"{V1}/partners/", PARTNER, HTTP_IDEMPOTENCY_KEY="etag-1")
    again = api.post(f"{V1}/partners/", PARTNER, HTTP_IDEMPOTENCY_KEY="etag-1")
    assert again["ETag"] == first["ETag"] == api.get(first["Location"])["ETag"]


def test_what_was_read_can_be_sent_back_with_put(api_world, api):
    url = f"{V1}/projects/{api_world.own.project.public_id}/"
    read = api.get(url)
    body = {**read.json(), "title": "Sent back"}
    response = api.put(url, body, HTTP_IF_MATCH=read["ETag"])
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Sent back"
    assert response.json()["budget"] == read.json()["budget"]


def test_page_numbers_are_checked(api_world, api):
    assert_problem(api.get(f"{V1}/projects/?page=abc"), 400, field="page")
    assert_problem(api.get(f"{V1}/projects/?page=0"), 400, field="page")
    assert_problem(api.get(f"{V1}/projects/?page_size=-3"), 400, field="page_size")


@pytest.mark.parametrize("date", ["20261231", "2026-W01-1", "2026-1-5"])
def test_dates_are_iso_calendar_dates_only(api_world, api, date):
    url = f"{V1}/projects/{api_world.own.project.public_id}/"
    assert_problem(api.patch(url, {"end_date": date}, HTTP_IF_MATCH="*"), 400, field="end_date")


def test_methods_an_endpoint_does_not_have_are_405_and_unknown_paths_404(api_world, api):
    assert_problem(api.put(f"{V1}/fund-years/2026/", {}), 405)
    assert_problem(api.post(f"{V1}/me/", {}), 405)
    assert_problem(api.options(f"{V1}/plans/"), 405)
    assert_problem(api.post(f"{V1}/project/", {}), 404)


def test_an_input_error_of_the_service_is_typed_invalid_input_not_a_rule(api_world, api):
    body = {"name": "X", "partner_type": "local_cso", "country": "QQ"}
    problem = assert_problem(api.post(f"{V1}/partners/", body), 400, "invalid", "country")
    assert problem["type"].endswith(":invalid-input")


def test_adding_a_priority_names_the_priority_field(api_world, api):
    url = f"{plan_url(api_world)}priorities/"
    assert_problem(api.post(url, {"priority": "climate", "amount": "1"}), 400, "R3", "priority")
