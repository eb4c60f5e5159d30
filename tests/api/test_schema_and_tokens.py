"""The OpenAPI schema and docs (behind a login, served without a CDN) and the embassy
accounts and tokens made by `create_post_user`."""

import io

import pytest
import yaml
from django.core.management import CommandError, call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from countries.models import PostMembership
from tests.factories import PostFactory, StaffFactory

from .support import client_for


def schema_of(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_documents_every_endpoint_with_its_errors(api_world, api):
    schema = schema_of(api)
    paths = schema["paths"]
    assert {
        "/api/v1/me/",
        "/api/v1/priorities/",
        "/api/v1/fund-years/",
        "/api/v1/plans/",
        "/api/v1/plans/{id}/",
        "/api/v1/plans/{id}/submit/",
        "/api/v1/plans/{id}/priorities/",
        "/api/v1/partners/",
        "/api/v1/projects/",
        "/api/v1/projects/{project_id}/indicators/",
        "/api/v1/projects/{project_id}/indicators/{indicator_id}/values/{year}/",
        "/api/v1/disbursements/{id}/",
    } <= set(paths)
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            for status in ("401", "403", "404", "429"):
                assert "application/problem+json" in responses[status]["content"], (path, method)
            if method in ("post", "put", "patch", "delete"):
                assert "400" in responses, (path, method)
                assert "examples" in str(operation.get("requestBody", "")) or method == "delete"
            if method in ("put", "patch", "delete"):
                names = [p["name"] for p in operation["parameters"]]
                assert "If-Match" in names, (path, method)
                assert {"412", "428"} <= set(responses), (path, method)
            if method == "post":
                assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}


def test_ministry_staff_may_read_the_schema_too(api_world, ministry_api):
    assert schema_of(ministry_api)["info"]["title"].startswith("Mensenrechtenfonds")


def test_the_docs_need_a_login_and_use_the_apps_own_assets(api_world, client):
    assert client.get("/api/docs/").status_code == 302
    assert client.get("/api/redoc/bundles/redoc.standalone.js").status_code == 302
    client.force_login(api_world.admin)
    swagger = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar" in swagger
    redoc = client.get("/api/redoc/").content.decode()
    assert "/api/redoc/bundles/redoc.standalone.js" in redoc
    for page in (swagger, redoc):
        assert "cdn." not in page and "unpkg" not in page and "jsdelivr" not in page
    # Redoc's script, with its one outside address (its maker's logo) made the app's own.
    bundle = client.get("/api/redoc/bundles/redoc.standalone.js").content
    assert len(bundle) > 100_000
    assert b"cdn.redoc.ly" not in bundle and b"https://fonts." not in bundle
    assert b"/static/fund/api-docs-logo" in bundle


def test_every_list_has_the_same_pagination_and_every_body_is_named_after_its_resource(
    api_world, api
):
    """Issue 20: a generated client pages every list the same way (the values and the
    reference lists included), and a report's submit body is not the plan's."""
    schema = schema_of(api)
    lists = [
        operation
        for operations in schema["paths"].values()
        for method, operation in operations.items()
        if method == "get" and operation["operationId"].endswith("_list")
    ]
    assert len(lists) >= 9
    for operation in lists:
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert body.get("$ref", "").startswith("#/components/schemas/Paginated"), operation
        assert {p["name"] for p in operation["parameters"]} >= {"page", "page_size"}
    bodies = {
        operation["operationId"]: operation["requestBody"]["content"]["application/json"]["schema"][
            "$ref"
        ].split("/")[-1]
        for operations in schema["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    assert bodies["annual_reports_submit"] == "AnnualReportSubmitRequest"
    assert bodies["plans_submit"] == "PlanSubmitRequest"
    for operation, body in bodies.items():
        other = "Plan" if operation.startswith("annual_reports") else "AnnualReport"
        assert not body.removeprefix("Patched").startswith(other), (operation, body)


def test_the_schema_lists_the_priority_and_result_codes_as_enums(api_world, api):
    from priorities.reference import PRIORITIES

    schemas = schema_of(api)["components"]["schemas"]
    assert schemas["PriorityCode"]["enum"] == [code for code, *_ in PRIORITIES]
    assert "women_girls.violence" in schemas["IntendedResultCode"]["enum"]
    project = schemas["ProjectRequest"]["properties"]
    assert "PriorityCode" in str(project["priority"])
    assert "IntendedResultCode" in str(project["intended_results"])


def test_the_schema_states_the_token_as_a_bearer_scheme_and_both_prefixes_work(api_world, editor):
    """Issue 20: a client generated from the schema sends `Bearer <token>` by itself; the
    README's `Token <token>` keeps working, on the API and on the docs pages alike."""
    _row, token = AuthToken.objects.create(user=editor)
    client = APIClient()
    schema = yaml.safe_load(client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token}").content)
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["tokenAuth"]["description"],
    }
    for prefix in ("Token", "Bearer", "bearer"):
        assert (
            client.get("/api/v1/plans/", HTTP_AUTHORIZATION=f"{prefix} {token}").status_code == 200
        )
        for url in ("/api/docs/", "/api/redoc/"):
            assert client.get(url, HTTP_AUTHORIZATION=f"{prefix} {token}").status_code == 200, url
    assert client.get("/api/v1/plans/", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
    assert client.get("/api/docs/", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401


def test_the_login_page_serves_embassy_users(api_world, client, editor):
    editor.set_password("a-long-docs-password")
    editor.save()
    response = client.post(
        "/accounts/login/",
        {"username": editor.username, "password": "a-long-docs-password", "next": "/api/docs/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"
    assert client.get("/api/docs/").status_code == 200


# --- create_post_user ------------------------------------------------------------------------


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command("create_post_user", *args, stdout=out)
    return out.getvalue().strip().splitlines()


@pytest.mark.django_db
def test_create_post_user_prints_a_working_token_as_its_last_line():
    post = PostFactory(code="KE-NAI")
    lines = run("nairobi-1", "--post", "KE-NAI", "--role", "editor")
    token = lines[-1]
    membership = PostMembership.objects.get(user__username="nairobi-1")
    assert (membership.post, membership.role) == (post, "editor")
    assert not membership.user.has_usable_password()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").json()["post"]["code"] == "KE-NAI"
    # Only a hash is stored: the token itself appears nowhere in the database.
    stored = AuthToken.objects.get(user=membership.user)
    assert token not in (stored.digest, stored.token_key)
    assert stored.expiry is not None


@pytest.mark.django_db
def test_create_post_user_updates_the_role_and_issues_another_token():
    PostFactory(code="KE-NAI")
    first = run("nairobi-2", "--post", "KE-NAI", "--role", "editor")[-1]
    lines = run("nairobi-2", "--post", "KE-NAI", "--role", "viewer", "--expiry-days", "7")
    assert lines[0].startswith("Updated user nairobi-2")
    assert PostMembership.objects.get(user__username="nairobi-2").role == "viewer"
    assert lines[-1] != first
    assert AuthToken.objects.filter(user__username="nairobi-2").count() == 2


@pytest.mark.django_db
def test_create_post_user_refuses_ministry_accounts_and_unknown_posts():
    PostFactory(code="KE-NAI")
    StaffFactory(username="minister")
    with pytest.raises(CommandError, match="R11"):
        run("minister", "--post", "KE-NAI", "--role", "editor")
    assert not PostMembership.objects.filter(user__username="minister").exists()
    assert not AuthToken.objects.filter(user__username="minister").exists()
    with pytest.raises(CommandError, match="no post"):
        run("someone", "--post", "XX-NONE", "--role", "viewer")


def test_an_expired_token_is_refused_and_removed(api_world, editor):
    """R11: a token past its expiry opens nothing, and is gone at its first use."""
    from datetime import timedelta

    from django.utils import timezone

    row, expired = AuthToken.objects.create(user=editor, expiry=timedelta(days=1))
    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    refused = APIClient()
    refused.credentials(HTTP_AUTHORIZATION=f"Token {expired}")
    assert refused.get("/api/v1/me/").status_code == 401
    assert not AuthToken.objects.filter(pk=row.pk).exists()
    assert client_for(editor).get("/api/v1/me/").status_code == 200  # a valid one still opens


def test_a_revoked_or_expired_token_is_refused(api_world, editor):
    client = client_for(editor)
    assert client.get("/api/v1/me/").status_code == 200
    AuthToken.objects.filter(user=editor).delete()  # revoked in the admin
    assert client.get("/api/v1/me/").status_code == 401
