"""What an operator relies on in production (docs/deploy.md): the security headers, request
ids, error tracking that names nobody (R11), secrets from files, the queues."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from config.observability import REDACTED, scrub

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
    )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["login", "health", "api-docs"])
def test_every_response_carries_the_content_security_and_permissions_policies(client, url):
    response = client.get(reverse(url))
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"  # no inline script, no CDN
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'" and policy["form-action"] == "'self'"
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


@pytest.mark.django_db
def test_swagger_ui_starts_from_a_script_file_and_redoc_loads_nothing_from_elsewhere(
    admin_client,
):
    swagger = admin_client.get(reverse("api-docs")).content.decode()
    assert "<script>" not in swagger  # its start-up script is a file of the app's own
    assert admin_client.get(reverse("api-docs") + "?script=").status_code == 200
    redoc = admin_client.get(reverse("api-redoc")).content.decode()
    assert "googleapis" not in redoc and "gstatic" not in redoc and "https://" not in redoc


@pytest.mark.django_db
def test_each_response_names_its_request_id_and_keeps_a_valid_one_from_the_proxy(client):
    first = client.get(reverse("health"))["X-Request-ID"]
    second = client.get(reverse("health"))["X-Request-ID"]
    assert first != second and uuid.UUID(first)
    sent = str(uuid.uuid4())
    assert client.get(reverse("health"), HTTP_X_REQUEST_ID=sent)["X-Request-ID"] == sent
    # Anything else (a forged, overlong or hostile value) is not written into the logs.
    hostile = client.get(reverse("health"), HTTP_X_REQUEST_ID="x\nFAKE log line")["X-Request-ID"]
    assert "FAKE" not in hostile and uuid.UUID(hostile)


def test_a_request_id_is_on_every_log_line_of_the_request():
    code = (
        "import django; django.setup(); from django.test import Client; "
        "import logging; from django.urls import path; "
        "Client().get('/no-such-page/')"
    )
    result = run_python(code, DJANGO_DEBUG="true", DJANGO_ALLOWED_HOSTS="testserver")
    [line] = [line for line in result.stderr.splitlines() if "Not Found" in line]
    request_id = line.split("[", 1)[1].split("]", 1)[0]
    assert uuid.UUID(request_id), line


def test_error_events_leave_without_anything_that_could_name_a_partner_R11():
    event = {
        "request": {
            "url": "https://fonds.example.org/api/v1/partners/?search=Stichting+Geheim",
            "query_string": "search=Stichting+Geheim",
            "data": {"name": "Stichting Geheim"},
            "cookies": {"sessionid": "s"},
            "headers": {"Cookie": "sessionid=s", "User-Agent": "curl", "Authorization": "Token t"},
            "env": {"REMOTE_ADDR": "10.0.0.1"},
        },
        "user": {"id": 7, "username": "ambassade-kenia", "email": "a@example.org"},
        "exception": {
            "values": [
                # Django's IntegrityError and, chained as its cause, psycopg's own.
                {"type": "IntegrityError", "value": "Key (name)=(Stichting Geheim) exists."},
                {
                    "type": "UniqueViolation",
                    "value": "DETAIL: Failing row contains (7, Stichting Geheim).",
                    "stacktrace": {"frames": [{"filename": "x.py", "vars": {"name": "Geheim"}}]},
                },
                {"type": "SMTPRecipientsRefused", "value": "{'geheim@ambassade.example': 550}"},
            ]
        },
        "logentry": {
            "message": "delivery of %s failed: %s",
            "params": ["geheim@ambassade.example", "550"],
            "formatted": "delivery of geheim@ambassade.example failed: 550",
        },
        "breadcrumbs": {"values": [{"category": "query", "message": "SELECT 1", "data": {"p": 1}}]},
        "extra": {"partner": "Stichting Geheim"},
    }
    sent = repr(scrub(event))
    assert "Geheim" not in sent and "geheim" not in sent and "ambassade-kenia" not in sent
    assert "Token t" not in sent and "sessionid" not in sent
    assert event["request"]["url"] == "https://fonds.example.org/api/v1/partners/"
    assert event["user"] == {"id": 7}
    assert [e["type"] for e in event["exception"]["values"]] == [
        "IntegrityError", "UniqueViolation", "SMTPRecipientsRefused",
    ]  # fmt: skip
    assert {e["value"] for e in event["exception"]["values"]} == {REDACTED}
    assert event["logentry"] == {"message": "delivery of %s failed: %s"}  # the template stays
    assert event["request"]["headers"] == {"User-Agent": "curl"}


def test_log_breadcrumbs_keep_the_template_and_drop_the_arguments_R11():
    import logging

    from config.observability import _scrub_breadcrumb

    record = logging.LogRecord("outbox", logging.ERROR, "x.py", 1, "refused %s", ("a@x.nl",), None)
    crumb = {"category": "outbox", "message": "refused a@x.nl", "data": {"to": "a@x.nl"}}
    assert _scrub_breadcrumb(crumb, {"log_record": record}) == {
        "category": "outbox", "message": "refused %s",
    }  # fmt: skip


def test_error_tracking_starts_with_a_dsn_and_not_without():
    code = (
        "import django; django.setup(); import sentry_sdk; "
        "client = sentry_sdk.get_client(); "
        "print(client.is_active(), client.options.get('send_default_pii'), "
        "client.options.get('include_local_variables'))"
    )
    on = run_python(code, DJANGO_DEBUG="true", SENTRY_DSN="https://key@errors.example.org/1")
    assert on.stdout.split() == ["True", "False", "False"], on.stderr
    off = run_python(code, DJANGO_DEBUG="true")
    assert off.stdout.split()[0] == "False", off.stderr


def test_secrets_may_be_given_as_files_and_nothing_is_written_for_a_development_key(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("a-secret-from-a-file-" + "x" * 40)
    code = "import config.settings as s; print(s.SECRET_KEY, s.EMAIL_HOST)"
    mail = tmp_path / "email_url"
    mail.write_text("smtp://mail.example.org:25")
    result = run_python(
        code, DJANGO_DEBUG="false", DJANGO_SECRET_KEY_FILE=str(secret), EMAIL_URL_FILE=str(mail)
    )
    assert result.stdout.split() == [secret.read_text(), "mail.example.org"], result.stderr
    before = set(ROOT.iterdir())
    development = run_python("import config.settings as s; print(s.SECRET_KEY)", DJANGO_DEBUG="1")
    assert development.stdout.startswith("django-insecure-"), development.stderr
    assert set(ROOT.iterdir()) == before  # no key file (or anything else) written


def test_without_debug_a_secret_key_is_required():
    result = run_python("import config.settings", DJANGO_DEBUG="false")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY_FILE" in result.stderr


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("outbox.tasks.deliver", "mail"),
        ("grants.notifications.notify_plan_step", "mail"),
        ("reports.tasks.send_report_email", "mail"),
        ("reports.tasks.make_report", "reports"),
        ("reports.tasks.sweep", "reports"),
        ("reports.tasks.housekeeping", "reports"),
        ("reports.tasks.export_iati", "exports"),
        ("reports.tasks.publish_monthly_iati", "exports"),
    ],
)
def test_each_task_goes_to_its_own_queue(task, queue):
    """E-mail never waits behind a half-hour IATI export, nor reports behind either."""
    from config.celery import app

    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_worker_started_without_queues_reads_all_three():
    from config.celery import app

    assert set(app.amqp.queues) == {"mail", "reports", "exports"}


def test_every_scheduled_task_goes_to_a_queue_a_worker_reads():
    from django.conf import settings

    from config.celery import app
    from reports.schedules import TASK_SCHEDULES

    tasks = ["reports.tasks.make_report", *(task for task, _cron in TASK_SCHEDULES.values())]
    for task in tasks:
        assert app.amqp.router.route({}, task)["queue"].name in settings.CELERY_QUEUE_NAMES
