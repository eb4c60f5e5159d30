"""Operator-facing behaviour: health check, no anonymous access (R11), deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.helpers import postgres_only

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_readiness_covers_the_database_broker_cache_and_storage(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = client.get(reverse("ready"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok", "storage": "ok"},
    }
    assert not list((tmp_path / "ready").iterdir())  # the probe file is gone again


@pytest.mark.django_db
def test_readiness_names_the_service_that_is_away_and_answers_503(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "file"
    (tmp_path / "file").write_text("not a folder: the storage cannot write here")
    response = client.get(reverse("ready"))
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "unavailable"
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_health_check_needs_no_login(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_the_schema_is_not_public_R11(client):
    response = client.get(reverse("schema"))
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
def test_the_api_docs_send_visitors_to_the_login_page_R11(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_admin_post_list_needs_login_R11(client):
    response = client.get(reverse("admin:countries_post_changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def run_manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 20 + "production-secret-key-with-enough-entropy-0123456789",
    "DJANGO_ALLOWED_HOSTS": "fonds.example.org",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "EMAIL_URL": "smtp://127.0.0.1:25",
    "FUND_REPORT_RECIPIENTS": "fonds@example.org",
}


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """Static files collected as a deploy does (hashed and compressed names)."""
    root = tmp_path_factory.mktemp("static")
    result = run_manage("collectstatic", "--no-input", **PRODUCTION, DJANGO_STATIC_ROOT=str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def test_production_settings_pass_check_deploy(collected):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION,
        DJANGO_STATIC_ROOT=str(collected),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_deploy_without_collected_static_files_fails_check_deploy(tmp_path):
    result = run_manage("check", "--deploy", **PRODUCTION, DJANGO_STATIC_ROOT=str(tmp_path))
    assert result.returncode != 0 and "fund.E006" in result.stderr


SERVE_STATIC = """
from django.test import Client
from django.templatetags.static import static
client = Client()
for name in ("admin/css/base.css", "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"):
    url = static(name)
    response = client.get(url, HTTP_HOST="fonds.example.org", secure=True)
    print(url, response.status_code, response.headers.get("Cache-Control"))
"""


def test_with_debug_off_the_app_serves_its_static_files_by_hashed_names(collected):
    result = run_manage(
        "shell", "--no-imports", "-c", SERVE_STATIC, **PRODUCTION,
        DJANGO_STATIC_ROOT=str(collected),
    )  # fmt: skip
    lines = result.stdout.split("\n")
    rows = [line.split(" ", 2) for line in lines if line.startswith("/static/")]
    assert len(rows) == 2, result.stdout + result.stderr
    for url, status, cache in rows:
        assert status == "200" and "immutable" in cache, (url, status, cache)
        assert url.count(".") >= 2  # base.<hash>.css


@pytest.mark.parametrize(
    ("missing", "check_id"),
    [
        ("CELERY_BROKER_URL", "fund.E001"),
        ("EMAIL_URL", "fund.E002"),
        ("CACHE_URL", "fund.E003"),
        ("FUND_REPORT_RECIPIENTS", "fund.E004"),
    ],
)
def test_production_without_a_real_service_fails_check_deploy(missing, check_id):
    """No silent development fallback with DEBUG off: an embedded broker, console mail, a
    per-process cache or reports to nobody are errors, not defaults."""
    environment = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = run_manage("check", "--deploy", **environment)
    assert result.returncode != 0
    assert check_id in result.stderr + result.stdout


def test_a_web_process_without_a_broker_does_not_start():
    environment = {key: value for key, value in PRODUCTION.items() if key != "CELERY_BROKER_URL"}
    environment.pop("DJANGO_DEBUG")
    code = "import config.wsgi"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
             **environment, "DJANGO_DEBUG": "false"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0 and "fund.E001" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_the_root_leads_to_the_admin_login_not_a_404(client):
    response = client.get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/admin/login/")


@pytest.mark.django_db
def test_password_guessing_is_locked_out_with_a_dutch_message(client, settings):
    from tests.factories import StaffFactory

    StaffFactory(username="geraden", password="the-right-password-1")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/admin/login/", {"username": "geraden", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    last = client.post("/admin/login/", {"username": "geraden", "password": "wrong"})
    assert last.status_code == 429
    locked = client.post(
        "/admin/login/", {"username": "geraden", "password": "the-right-password-1"}
    )
    assert locked.status_code == 429
    assert "Te veel mislukte" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    english = client.post(
        "/admin/login/",
        {"username": "geraden", "password": "wrong"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Too many failed logins" in english.content.decode()


PRINT_PRELOAD = "from django.conf import settings; print(settings.SECURE_HSTS_PRELOAD)"


def test_hsts_preload_is_the_operators_promise_not_a_default():
    result = run_manage("shell", "--no-imports", "-c", PRINT_PRELOAD, **PRODUCTION)
    assert result.stdout.strip() == "False", result.stderr
    preload = run_manage(
        "shell",
        "--no-imports",
        "-c",
        PRINT_PRELOAD,
        **PRODUCTION,
        DJANGO_SECURE_HSTS_PRELOAD="true",
    )
    assert preload.stdout.strip() == "True", preload.stderr


@postgres_only
def test_psycopgs_pool_is_used_with_pool_true_in_the_database_url():
    from django.db import connection

    s = connection.settings_dict
    url = (
        f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/postgres?pool=true"
    )
    code = (
        "from django.db import connection; connection.ensure_connection(); "
        "print(connection.pool is not None, connection.settings_dict['CONN_MAX_AGE'], "
        "connection.settings_dict['CONN_HEALTH_CHECKS'])"
    )
    result = run_manage("shell", "--no-imports", "-c", code, DJANGO_DEBUG="true", DATABASE_URL=url,
                        DJANGO_CONN_MAX_AGE="60")  # fmt: skip
    assert result.stdout.split() == ["True", "0", "True"], result.stdout + result.stderr


LOG_PROBE = (
    "import logging; logging.getLogger('django.request').warning('probe %s', 1); "
    "logging.getLogger('outbox.services').info('probe two')"
)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_each_event_is_one_log_line_with_time_level_and_logger(log_format):
    import json

    result = run_manage("shell", "--no-imports", "-c", LOG_PROBE, DJANGO_DEBUG="true",
                        DJANGO_LOG_FORMAT=log_format)  # fmt: skip
    lines = [line for line in result.stderr.splitlines() if "probe" in line]
    assert len(lines) == 2, result.stderr  # once each, not twice
    if log_format == "json":
        events = [json.loads(line) for line in lines]
        assert [(e["level"], e["logger"], e["message"], e["request_id"]) for e in events] == [
            ("WARNING", "django.request", "probe 1", "-"),
            ("INFO", "outbox.services", "probe two", "-"),
        ]
        assert all(e["time"][:4].isdigit() for e in events)
    else:
        assert " WARNING django.request [-] probe 1" in lines[0]  # [-]: no request
