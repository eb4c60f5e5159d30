"""/api/v1/annual-reports/ (R10, R13): the access table of test_access_table.py for the
report's routes, and a post's whole round through the API — with ETags, idempotent retries,
problem details naming the rule, and the figures computed from the data."""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from countries.models import PostRole
from grants import services
from grants.models import AnnualReport
from priorities.models import IntendedResult
from tests.access.test_policy import ministry_user
from tests.helpers import REPORTED_YEAR, post_with_a_reported_year

from .support import assert_problem, client_for, post_user
from .test_access_table import call, written_state

V1 = "/api/v1"
pytestmark = pytest.mark.django_db


@pytest.fixture
def report_world(api_world):
    """Both posts' 2026 plans approved, each with a draft annual report that gives progress
    on every aim."""
    for world in (api_world.own, api_world.other):
        services.plan_approve(
            actor=api_world.admin,
            plan=services.plan_submit(actor=api_world.admin, plan=world.plan),
        )
        world.report = services.annual_report_create(
            actor=api_world.admin, post=world.post, fund_year=api_world.year
        )
        aims = IntendedResult.objects.filter(plan_aims__plan_priority__plan=world.plan)
        services.annual_report_update(
            actor=api_world.admin, report=world.report, progress=dict.fromkeys(aims, "Goed.")
        )
    return api_world


def _report(w):
    return f"{V1}/annual-reports/{w.report.public_id}/"


BODY = {"summary": "Ons jaar.", "progress": [{"intended_result": "women_girls.violence",
                                               "progress": "Drie opvanghuizen."}]}  # fmt: skip
ENDPOINTS = [
    ("get", lambda w: f"{V1}/annual-reports/", None),
    ("post", lambda w: f"{V1}/annual-reports/", {"year": 2026}),
    ("get", _report, None),
    ("put", _report, BODY),
    ("patch", _report, {"summary": "Anders."}),
    ("post", lambda w: f"{_report(w)}submit/", {}),
]
IDS = [f"{index:02d}-{row[0]}" for index, row in enumerate(ENDPOINTS)]
OBJECT_ROUTES = ENDPOINTS[2:]  # the routes that name a report
WRITES = [row for row in ENDPOINTS if row[0] != "get"]


def state(world) -> tuple:
    return written_state(), AnnualReport.objects.filter(pk=world.own.report.pk).values().first()


@pytest.mark.parametrize(("method", "path_of", "body_of"), ENDPOINTS, ids=IDS)
def test_no_credentials_is_401(report_world, method, path_of, body_of):
    before = state(report_world)
    response = call(APIClient(), method, path_of, body_of, report_world.own)
    assert_problem(response, 401, "not_authenticated")
    assert state(report_world) == before


@pytest.mark.parametrize(("method", "path_of", "body_of"), OBJECT_ROUTES, ids=IDS[2:])
def test_another_posts_report_is_404_as_if_it_did_not_exist_R11(
    report_world, other_api, method, path_of, body_of
):
    before = state(report_world)
    response = call(other_api, method, path_of, body_of, report_world.own, HTTP_IF_MATCH="*")
    body = assert_problem(response, 404)
    assert report_world.own.post.code not in response.content.decode()
    own_id = str(report_world.own.report.public_id)
    missing = call(
        other_api,
        method,
        lambda w: path_of(w).replace(own_id, str(uuid.uuid4())),
        body_of,
        report_world.own,
        HTTP_IF_MATCH="*",
    )
    assert missing.status_code == 404
    assert missing.json() == body
    assert state(report_world) == before


@pytest.mark.parametrize(("method", "path_of", "body_of"), WRITES, ids=IDS[1:2] + IDS[3:])
def test_a_viewer_who_writes_gets_403(report_world, viewer_api, method, path_of, body_of):
    before = state(report_world)
    response = call(viewer_api, method, path_of, body_of, report_world.own, HTTP_IF_MATCH="*")
    assert_problem(response, 403)
    assert state(report_world) == before


@pytest.mark.parametrize(("method", "path_of", "body_of"), ENDPOINTS, ids=IDS)
def test_ministry_staff_get_403_on_the_post_api(report_world, method, path_of, body_of):
    before = state(report_world)
    reviewer = client_for(ministry_user("reviewer", "beoordelaar"))
    response = call(reviewer, method, path_of, body_of, report_world.own, HTTP_IF_MATCH="*")
    assert_problem(response, 403)
    assert state(report_world) == before


@pytest.mark.parametrize(("method", "path_of", "body_of"), ENDPOINTS, ids=IDS)
def test_the_viewer_reads_and_the_editor_may_call_every_endpoint(
    report_world, api, viewer_api, method, path_of, body_of
):
    client = viewer_api if method == "get" else api
    response = call(client, method, path_of, body_of, report_world.own, HTTP_IF_MATCH="*")
    assert response.status_code not in (401, 403, 404, 405, 500), response.content[:400]


def test_the_list_shows_only_the_callers_report_R11(report_world, other_api):
    rows = other_api.get(f"{V1}/annual-reports/").json()["results"]
    assert [row["id"] for row in rows] == [str(report_world.other.report.public_id)]


# --- A post's round through the API -------------------------------------------------------------


@pytest.fixture
def reporting_editor(api_world):
    """An editor of a post whose approved 2026 plan and projects follow REPORTED_YEAR."""
    post, plan = post_with_a_reported_year(api_world.admin, api_world.year)
    user = post_user(api_world.admin, post, PostRole.EDITOR, "reporting-editor")
    return client_for(user), post, plan


def progress_for_every_aim():
    return [
        {"intended_result": code, "progress": f"Voortgang {code}."}
        for _amount, aims in REPORTED_YEAR["priorities"].values()
        for code in aims
    ]


def test_a_post_drafts_submits_and_gets_back_its_report_R10(api_world, reporting_editor):
    client, post, _plan = reporting_editor
    created = client.post(
        f"{V1}/annual-reports/",
        {"year": 2026, "summary": "Ons jaar."},
        format="json",
        HTTP_IDEMPOTENCY_KEY="report-2026",
    )
    assert created.status_code == 201, created.content
    report = created.json()
    assert created["Location"].endswith(f"/annual-reports/{report['id']}/")
    assert report["status"] == "draft" and report["editable"]
    # A retry with the same key gets the first answer, not a second report (or an R10 refusal).
    again = client.post(
        f"{V1}/annual-reports/",
        {"year": 2026, "summary": "Ons jaar."},
        format="json",
        HTTP_IDEMPOTENCY_KEY="report-2026",
    )
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert AnnualReport.objects.filter(post=post).count() == 1
    url = f"{V1}/annual-reports/{report['id']}/"

    # Submitting before saying anything on the plan's aims: refused by R13.
    assert_problem(client.post(f"{url}submit/", {}, format="json"), 400, "R13", "progress")
    # A write without If-Match is 428; with a stale ETag 412.
    body = {"progress": progress_for_every_aim()}
    assert_problem(client.patch(url, body, format="json"), 428)
    assert_problem(client.patch(url, body, format="json", HTTP_IF_MATCH='"stale"'), 412)
    etag = client.get(url)["ETag"]
    changed = client.patch(url, body, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != etag
    # Progress only on what the plan aims at (R13).
    unaimed = {"progress": [{"intended_result": "women_girls.peace_security", "progress": "x"}]}
    assert_problem(
        client.patch(url, unaimed, format="json", HTTP_IF_MATCH=changed["ETag"]),
        400,
        "R13",
        "progress",
    )

    submitted = client.post(f"{url}submit/", {"comment": "Klaar."}, format="json")
    assert submitted.json()["status"] == "submitted"
    frozen = client.patch(url, {"summary": "Nog iets"}, format="json", HTTP_IF_MATCH="*")
    assert_problem(frozen, 409, "R10")

    reviewer = ministry_user("reviewer", "beoordelaar")
    stored = AnnualReport.objects.get(public_id=report["id"])
    services.annual_report_return(actor=reviewer, report=stored, comment="Meer cijfers.")
    returned = client.get(url).json()
    assert returned["status"] == "returned" and returned["editable"]
    assert returned["transitions"][-1]["comment"] == "Meer cijfers."
    assert returned["transitions"][-1]["by"] == "ministry"  # R11: no ministry names
    assert client.post(f"{url}submit/", {}, format="json").json()["status"] == "submitted"
    services.annual_report_accept(actor=reviewer, report=stored)
    accepted = client.get(url).json()
    assert accepted["status"] == "accepted"
    assert [t["to_status"] for t in accepted["transitions"]] == [
        "draft",
        "submitted",
        "returned",
        "submitted",
        "accepted",
    ]


def test_the_report_shows_the_computed_figures_R13(api_world, reporting_editor):
    client, _post, _plan = reporting_editor
    report = client.post(f"{V1}/annual-reports/", {"year": 2026}, format="json").json()
    priorities = {row["priority"]: row for row in report["priorities"]}
    assert set(priorities) == set(REPORTED_YEAR["priorities"])
    for code, (amount, aims) in REPORTED_YEAR["priorities"].items():
        row = priorities[code]
        mine = [p for p in REPORTED_YEAR["projects"] if p["priority"] == code]
        assert Decimal(row["in_plan"]) == Decimal(amount)
        assert Decimal(row["disbursed"]) == sum(
            (Decimal(a) for p in mine for a in p["paid"]), Decimal(0)
        )
        assert [result["intended_result"] for result in row["results"]] == aims
        for result in row["results"]:
            expected = sorted(
                Decimal(values[2026])
                for p in mine
                if p["results"][-1] == result["intended_result"]
                for *_i, values in p["indicators"]
            )
            assert sorted(Decimal(v["value"]) for v in result["values"]) == expected
    assert Decimal(report["money"]["allocated"]) == Decimal("1000000.00")
    # The figures are not input: sending them is refused as an unknown field.
    etag = client.get(f"{V1}/annual-reports/{report['id']}/")["ETag"]
    refused = client.patch(
        f"{V1}/annual-reports/{report['id']}/",
        {"money": {"disbursed": "1.00"}},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert_problem(refused, 400, "unknown_field", "money")


def test_a_report_on_a_plan_not_yet_approved_is_refused_R10(api_world, api):
    refused = api.post(f"{V1}/annual-reports/", {"year": 2026}, format="json")
    assert_problem(refused, 400, "R10", "year")


def test_plans_name_their_aims_and_projects_keep_to_them_R13(api_world, api):
    own = api_world.own
    url = f"{V1}/plans/{own.plan.public_id}/"
    plan = api.get(url)
    [chosen] = plan.json()["priorities"]
    assert chosen["intended_results"] == [
        "women_girls.violence",
        "women_girls.peace_security",
        "women_girls.srhr",
    ]
    # The project serves women_girls.violence: the plan keeps aiming at it (R13).
    narrowed = {"priorities": [{"priority": "women_girls", "amount": "400000.00",
                                "intended_results": ["women_girls.srhr"]}]}  # fmt: skip
    refused = api.patch(url, narrowed, format="json", HTTP_IF_MATCH=plan["ETag"])
    assert_problem(refused, 400, "R13", "priorities")
    narrowed["priorities"][0]["intended_results"] = ["women_girls.violence"]
    changed = api.patch(url, narrowed, format="json", HTTP_IF_MATCH=plan["ETag"])
    assert changed.json()["priorities"][0]["intended_results"] == ["women_girls.violence"]
    # And from the project's side: a result outside the plan's aims is refused (R13).
    project_url = f"{V1}/projects/{own.project.public_id}/"
    etag = api.get(project_url)["ETag"]
    refused = api.patch(
        project_url,
        {"intended_results": ["women_girls.violence", "women_girls.srhr"]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert_problem(refused, 400, "R13", "intended_results")


def test_an_intended_result_named_twice_is_refused_not_merged(api_world, reporting_editor):
    client, _post, _plan = reporting_editor
    twice = [
        {"intended_result": "women_girls.violence", "progress": "Eerste tekst."},
        {"intended_result": "women_girls.violence", "progress": "Tweede tekst."},
    ]
    response = client.post(
        f"{V1}/annual-reports/", {"year": 2026, "progress": twice}, format="json"
    )
    body = assert_problem(response, 400, field="progress")
    assert "women_girls.violence" in body["errors"][0]["message"]
    assert not AnnualReport.objects.exists()


def test_the_fund_year_names_the_report_deadline_and_the_report_R10(api_world, reporting_editor):
    client, _post, _plan = reporting_editor
    api_world.year.report_deadline = api_world.year.plan_submission_deadline.replace(year=2027)
    api_world.year.save()
    before = client.get(f"{V1}/fund-years/2026/").json()
    assert before["report_deadline"] == api_world.year.report_deadline.isoformat()
    assert before["annual_report"] is None
    created = client.post(f"{V1}/annual-reports/", {"year": 2026}, format="json").json()
    assert client.get(f"{V1}/fund-years/2026/").json()["annual_report"] == created["id"]


def test_a_patch_with_an_incomplete_progress_entry_is_400_not_500(api_world, reporting_editor):
    """Found by the API fuzzing: a PATCH makes nested fields optional in DRF."""
    client, _post, _plan = reporting_editor
    created = client.post(f"{V1}/annual-reports/", {"year": 2026}, format="json")
    path = f"{V1}/annual-reports/{created.json()['id']}/"
    response = client.patch(
        path, {"progress": [{"progress": ""}]}, format="json", HTTP_IF_MATCH=created["ETag"]
    )
    body = assert_problem(response, 400, field="progress")
    assert "intended_result" in body["errors"][0]["message"]


def test_the_report_list_costs_the_same_queries_for_more_years(api_world, reporting_editor):
    """The list shows where each report stands; its figures are in the detail (one selector
    run per report would grow with the years a post has reported on)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import FundYearFactory

    client, post, _plan = reporting_editor
    client.post(f"{V1}/annual-reports/", {"year": 2026}, format="json")
    with CaptureQueriesContext(connection) as one:
        listed = client.get(f"{V1}/annual-reports/").json()["results"]
    assert [row["year"] for row in listed] == [2026] and "money" not in listed[0]
    year2027 = FundYearFactory(year=2027)
    post_with_a_reported_year(api_world.admin, year2027, post=post)
    client.post(f"{V1}/annual-reports/", {"year": 2027}, format="json")
    with CaptureQueriesContext(connection) as two:
        listed = client.get(f"{V1}/annual-reports/").json()["results"]
    assert [row["year"] for row in listed] == [2027, 2026]
    assert len(two) == len(one)


def test_the_report_list_reads_no_history_it_does_not_show(report_world, api):
    """The list shows each report's standing, not its steps: neither the steps nor the
    post's members (who the steps name) are read for it; the detail reads both and names
    the post's own user who took a step."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        listed = api.get(f"{V1}/annual-reports/").json()["results"]
    assert [row["id"] for row in listed] == [str(report_world.own.report.public_id)]
    sql = " ".join(query["sql"] for query in captured)
    assert "reporttransition" not in sql
    # No query of the post's members: the caller's own membership, which the access check
    # needs, comes with the token (config.authentication).
    assert 'FROM "countries_postmembership"' not in sql
    detail = api.get(_report(report_world.own)).json()
    assert "transitions" in detail and "transitions" not in listed[0]
