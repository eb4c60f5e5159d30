"""The fund as docs/deploy.md runs it, on this machine's real services: DEBUG off, two gunicorn
servers from config/gunicorn.py behind a (simulated) TLS proxy, one Celery worker per queue and
a beat, PostgreSQL, a Redis broker and cache, an SMTP server and an S3-compatible object store.

One test, in the order an operator would check a new deployment: the deploy check, static
files, the security headers, readiness, a plan round through the API with its e-mail at the
SMTP server, a report and an IATI export stored and downloaded, then a worker killed while it
builds a report and the report made exactly once after the restart."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Group

from countries.models import PostRole
from countries.services import membership_set
from fund.access import ensure_roles, system_actor
from grants.models import FundYear
from reports.models import IatiExport, Report, ReportStatus
from tests.factories import PartnerFactory, StaffFactory, UserFactory
from tests.faults.harness import Celery, Redis, Sink, free_port, send_task, wait_until
from tests.faults.test_delivery_under_faults import BuildBlocked
from tests.helpers import postgres_only
from tests.reports.test_disclosure import participant, project

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = ["fonds@example.org", "directie@example.org"]
BUCKET = "fonds-smoke"
PASSWORD = "een-lang-wachtwoord-voor-de-rook"
HOST = "fonds.example.org"
# What the TLS proxy in front sends: the fund's host name, and that the request came by HTTPS.
PROXY = {"X-Forwarded-Proto": "https", "Host": HOST}


class Production(Celery):
    """The harness's processes with the production environment: DEBUG off and every
    service real. Only the timeouts are shortened, so that the test takes a minute."""

    def __init__(self, tmp_path, redis, sink, s3_endpoint):
        super().__init__(tmp_path, redis, sink, ",".join(RECIPIENTS))
        self.redis = redis
        cache = redis.url.rsplit("/", 1)[0] + "/1"
        # Secrets as files, as the compose file gives them (with the line end echo leaves).
        (tmp_path / "secret_key").write_text(secrets.token_urlsafe(50) + "\n")
        (tmp_path / "storage_key").write_text("smoke\n")
        self.env.pop("DJANGO_SECRET_KEY", None)
        self.env.update(
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY_FILE=str(tmp_path / "secret_key"),
            DJANGO_ALLOWED_HOSTS=HOST,
            DJANGO_CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
            DJANGO_BEHIND_TLS_PROXY="true",
            DJANGO_STATIC_ROOT=str(tmp_path / "static"),
            DJANGO_MEDIA_ROOT=str(tmp_path / "must-stay-empty"),
            DJANGO_STORAGE_BUCKET=BUCKET,
            AWS_S3_ENDPOINT_URL=s3_endpoint,
            AWS_S3_REGION_NAME="eu-west-1",
            AWS_ACCESS_KEY_ID="smoke",
            AWS_SECRET_ACCESS_KEY_FILE=str(tmp_path / "storage_key"),
            AWS_EC2_METADATA_DISABLED="true",
            CACHE_URL=cache,
            DJANGO_LOG_FORMAT="json",
            FUND_SITE_URL="https://fonds.example.org",
            IATI_REGION_MIN_POSTS="3",
        )

    def manage(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    def web(self) -> str:
        port = free_port()
        log = self.tmp_path / f"gunicorn-{port}.log"
        self.logs.append(log)
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"}
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
                cwd=ROOT, env=env, stdout=open(log, "w"),  # noqa: SIM115 (the process keeps it)
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        )  # fmt: skip
        wait_until(lambda: self.healthy(port), 60, f"gunicorn on {port}", self.logs)
        return f"http://127.0.0.1:{port}"

    def healthy(self, port: int, path: str = "/health/") -> bool:
        """The container's health check (config.healthcheck), as Docker runs it."""
        env = {**self.env, "GUNICORN_BIND": f"0.0.0.0:{port}"}
        check = subprocess.run([sys.executable, "-m", "config.healthcheck", path], cwd=ROOT,
                               env=env, capture_output=True, timeout=30)  # fmt: skip
        return check.returncode == 0


@pytest.fixture
def s3_endpoint():
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="eu-west-1",
        aws_access_key_id="smoke", aws_secret_access_key="smoke",
    )  # fmt: skip
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    yield endpoint
    server.stop()


@pytest.fixture
def world():
    """Three published posts with cleared partners (an IATI file to publish), a post editor
    with an API token, a reviewer and a fund manager with e-mail addresses."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask
    from knox.models import AuthToken

    ensure_roles()
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("9000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    actor = system_actor("seed")
    for code in ("KE", "UG", "TZ"):
        post = participant(actor, year, code, published=True)
        project(actor, post, partner=PartnerFactory(post=post, cleared_for_publication=True))
    from tests.helpers import make_participant

    embassy = make_participant(StaffFactory(username="smoke-staff"), year)
    editor = UserFactory(username="smoke-editor", email="editor@example.org")
    membership_set(actor=actor, user=editor, post=embassy, role=PostRole.EDITOR)
    _instance, token = AuthToken.objects.create(editor)
    reviewer = UserFactory(username="smoke-reviewer", email="reviewer@example.org", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="beoordelaar"))
    manager = UserFactory(username="smoke-manager", email="manager@example.org", is_staff=True)
    # Hashed as production hashes (the tests' settings use a fast hasher it does not know).
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    manager.password = PBKDF2PasswordHasher().encode(PASSWORD, "smoke-salt-0123456789")
    manager.save()
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    # Beat hands out the delivery every second (instead of every minute).
    PeriodicTask.objects.update(enabled=False)
    every_second, _created = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name="smoke delivery", task="outbox.tasks.deliver", interval=every_second
    )
    return {"token": token, "year": year}


def admin_session(url: str) -> dict:
    """Log the fund manager in through the admin's form, as a browser would over HTTPS."""
    login = requests.get(f"{url}/admin/login/", headers=PROXY, timeout=10)
    cookies = {"csrftoken": login.cookies["csrftoken"]}
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    origin = f"https://{HOST}"
    answer = requests.post(
        f"{url}/admin/login/?next=/admin/",
        data={"username": "smoke-manager", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={**PROXY, "Origin": origin, "Referer": f"{origin}/admin/login/"},
        cookies=cookies, allow_redirects=False, timeout=10,
    )  # fmt: skip
    assert answer.status_code == 302, answer.text[:2000]
    return {"csrftoken": cookies["csrftoken"], "sessionid": answer.cookies["sessionid"],
            "origin": origin}  # fmt: skip


def test_the_fund_in_production_mode_end_to_end(tmp_path, world, s3_endpoint):
    redis, sink = Redis(tmp_path), Sink()
    redis.start()
    sink.start()
    fund = Production(tmp_path, redis, sink, s3_endpoint)
    try:
        _run(fund, sink, world, tmp_path)
    finally:
        fund.stop()
        sink.stop()
        redis.stop()


def _run(fund: Production, sink: Sink, world: dict, tmp_path: Path) -> None:
    # 1. The deploy check passes on this environment; static files are collected first.
    collected = fund.manage("collectstatic", "--no-input", "-v", "0")
    assert collected.returncode == 0, collected.stderr
    deploy = fund.manage("check", "--deploy", "--fail-level", "WARNING")
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr

    first, second = fund.web(), fund.web()
    for queue in ("mail", "reports", "exports"):
        fund.worker("--queues", queue, "--hostname", f"{queue}@smoke")
    fund.beat()

    # 2. Only the fund's host name is answered; plain HTTP is sent to HTTPS; behind the proxy
    #    the pages come with their headers.
    assert requests.get(f"{first}/admin/login/", timeout=10).status_code == 400  # Host 127.0.0.1
    plain = requests.get(f"{first}/admin/login/", headers={"Host": HOST}, allow_redirects=False,
                         timeout=10)  # fmt: skip
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://{HOST}/admin/login/"
    login = requests.get(f"{first}/admin/login/", headers=PROXY, timeout=10)
    assert login.status_code == 200
    headers = login.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert "preload" not in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert len(headers["X-Request-ID"]) >= 32

    # 3. Static files from the app itself: hashed names, cached for good, on both servers.
    [css] = re.findall(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login.text)
    for url in (first, second):
        asset = requests.get(f"{url}{css}", headers=PROXY, timeout=10)
        assert asset.status_code == 200 and b"body" in asset.content
        assert "immutable" in asset.headers["Cache-Control"]

    # 4. Readiness: database, broker, cache and object storage (also as compose checks it).
    assert fund.healthy(int(second.rsplit(":", 1)[1]), "/health/ready/")
    ready = requests.get(f"{second}/health/ready/", headers={"Host": HOST}, timeout=10)
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"].values()) == {"ok"}

    # 5. A plan round through the API, half on each server; its e-mail reaches the reviewer.
    api = {**PROXY, "Authorization": f"Token {world['token']}"}
    body = {"year": 2026, "narrative": "Focus op vrouwenrechten.",
            "priorities": [{"priority": "women_girls", "amount": "400000.00"}]}  # fmt: skip
    made = requests.post(f"{first}/api/v1/plans/", json=body, headers=api, timeout=20)
    assert made.status_code == 201, made.text
    plan = made.json()["id"]
    submitted = requests.post(f"{second}/api/v1/plans/{plan}/submit/", headers=api, timeout=20)
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    wait_until(lambda: sink.to("reviewer@example.org"), 60, "the reviewer's e-mail", fund.logs)
    assert any("2026" in subject for _to, _id, subject in sink.to("reviewer@example.org"))

    # 6. A report, made by the reports worker, mailed, and downloadable in the admin.
    send_task(fund.redis, "reports.tasks.make_report", "weekly", "2026-W20")
    wait_until(lambda: _done("2026-W20"), 90, "the weekly report", fund.logs)
    wait_until(lambda: all(sink.to(a) for a in RECIPIENTS), 60, "the report's e-mails", fund.logs)
    session = admin_session(first)
    cookies = {"csrftoken": session["csrftoken"], "sessionid": session["sessionid"]}
    report = Report.objects.get(period="2026-W20")
    xlsx = requests.get(f"{second}/admin/reports/report/{report.pk}/download/xlsx/",
                        headers=PROXY, cookies=cookies, timeout=20)  # fmt: skip
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK", xlsx.status_code

    # 7. An IATI export asked for in the admin, written by the exports worker into the object
    #    store (nothing on local disk), and downloaded through the other server.
    asked = requests.post(
        f"{first}/admin/reports/iatiexport/new/",
        data={"csrfmiddlewaretoken": session["csrftoken"]},
        headers={**PROXY, "Origin": session["origin"], "Referer": f"{session['origin']}/admin/"},
        cookies=cookies, allow_redirects=False, timeout=20,
    )  # fmt: skip
    assert asked.status_code == 302, asked.text[:2000]
    wait_until(lambda: IatiExport.objects.filter(status="done").exists(), 120, "the IATI export",
               fund.logs)  # fmt: skip
    export = IatiExport.objects.get(status="done")
    assert export.file.name.startswith("iati/")
    xml = requests.get(f"{second}/admin/reports/iatiexport/{export.pk}/download/",
                       headers=PROXY, cookies=cookies, timeout=20)  # fmt: skip
    assert xml.status_code == 200 and b"<iati-activities" in xml.content
    assert not (tmp_path / "must-stay-empty").exists()

    # 8. The reports worker killed while it builds a report: after its restart the report is
    #    made once and each recipient gets it once.
    reports_worker = next(p for p in fund.processes if "reports@smoke" in " ".join(p.args))
    with BuildBlocked() as blocked:
        send_task(fund.redis, "reports.tasks.make_report", "weekly", "2026-W21")
        wait_until(blocked.waiting, 60, "the build waits on the lock", fund.logs)
        Celery.kill(reports_worker)
    fund.worker("--queues", "reports", "--hostname", "reports2@smoke")
    wait_until(lambda: _done("2026-W21"), 120, "the report after the restart", fund.logs)
    wait_until(lambda: all(_subjects(sink, a, "2026-W21") for a in RECIPIENTS), 60,
               "its e-mails", fund.logs)  # fmt: skip
    time.sleep(3)  # a second delivery would arrive meanwhile
    assert Report.objects.filter(period="2026-W21").count() == 1
    for address in RECIPIENTS:
        assert len(_subjects(sink, address, "2026-W21")) == 1, sink.to(address)

    # Every log line of the workers and beat is one JSON event with a time, a level, a logger
    # and a request id; none is in Celery's own format (their start banners are not logs).
    import json

    for log in fund.logs:
        if "gunicorn" in log.name:
            continue  # gunicorn's own access and arbiter lines
        lines = log.read_text().splitlines()
        events = [json.loads(line) for line in lines if line.startswith("{")]
        assert events, log
        for event in events:
            assert {"time", "level", "logger", "message", "request_id"} <= set(event), event
        assert not [line for line in lines if re.match(r"\[?\d{4}-\d\d-\d\d", line)], log


def _done(period: str) -> bool:
    return Report.objects.filter(period=period, status=ReportStatus.DONE).exists()


def _subjects(sink: Sink, address: str, part: str) -> list:
    return [row for row in sink.to(address) if part in row[2]]
