"""Every generated file goes through Django's storage API (issue: object storage): the IATI
export and the import files between preview and confirmation, on the filesystem and on an
S3-compatible object store (moto's server, a real HTTP S3 endpoint), nothing on local disk."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.urls import reverse

from fund.access import system_actor
from grants.models import FundYear
from reports.iati.services import make_export, monthly_period
from reports.models import IatiExport
from tests.factories import PartnerFactory
from tests.reports.test_disclosure import participant, project

pytestmark = pytest.mark.django_db

BUCKET = "fonds-bestanden"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(settings, s3_endpoint, monkeypatch, tmp_path):
    """The default storage is a private bucket on the S3 endpoint, as DJANGO_STORAGE_BUCKET
    configures it (config/settings.py); MEDIA_ROOT points at a folder that must stay empty."""
    import boto3

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="eu-west-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET, "endpoint_url": s3_endpoint, "region_name": "eu-west-1",
                "access_key": "test", "secret_key": "test", "default_acl": None,
                "file_overwrite": False, "querystring_auth": True,
            },
        },
    }  # fmt: skip
    settings.MEDIA_ROOT = tmp_path / "local-disk"
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def filesystem(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


@pytest.fixture
def year():
    return FundYear.objects.create(
        year=2026, envelope=Decimal("9000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )


def publishable_world(year):
    actor = system_actor("seed")
    for code in ("KE", "UG", "TZ"):
        post = participant(actor, year, code, published=True)
        project(actor, post, partner=PartnerFactory(post=post, cleared_for_publication=True))
    return actor


def _downloaded(client, export) -> bytes:
    from django.contrib.auth.models import Group

    from fund import access
    from tests.factories import UserFactory

    access.ensure_roles()
    manager = UserFactory(username="beheerder", is_staff=True)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    client.force_login(manager)
    response = client.get(reverse("admin:reports_iatiexport_download", args=[export.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_an_iati_export_is_kept_in_the_object_store_and_downloadable(s3, year, client):
    actor = publishable_world(year)
    export = make_export(actor=actor)

    [stored] = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert stored["Key"] == export.file.name and stored["Key"].startswith("iati/")
    body = s3.get_object(Bucket=BUCKET, Key=stored["Key"])["Body"].read()
    assert body.startswith(b"<?xml") and b"<iati-activities" in body
    assert export.size == len(body)
    assert _downloaded(client, export) == body

    # The next export reads the first from the store (the attacker reads every file, R11).
    second = make_export(actor=actor)
    assert second.status == "done" and second.file.name != export.file.name
    assert len(s3.list_objects_v2(Bucket=BUCKET)["Contents"]) == 2


def test_nothing_is_written_to_local_disk_with_an_object_store(s3, year, settings):
    actor = publishable_world(year)
    make_export(actor=actor)
    assert not Path(settings.MEDIA_ROOT).exists()


def test_an_iati_export_is_kept_in_the_media_folder_with_the_filesystem(filesystem, year, client):
    actor = publishable_world(year)
    export = make_export(actor=actor)
    assert (filesystem / export.file.name).read_bytes() == _downloaded(client, export)
    assert [p.name for p in (filesystem / "iati").iterdir()] == [Path(export.file.name).name]


@pytest.mark.parametrize("backend", ["filesystem", "s3"])
def test_import_files_wait_for_their_confirmation_in_the_file_storage(backend, request):
    """django-import-export keeps the uploaded file between preview and confirmation in the
    file storage (any web process may confirm), and housekeeping removes unconfirmed ones."""
    request.getfixturevalue(backend)
    from import_export.tmp_storages import MediaStorage

    from grants.services.housekeeping import prune_abandoned_imports

    stored = MediaStorage(encoding="utf-8", read_mode="rb")
    stored.save(b"post,fund_year,selected\nKE,2026,1\n")
    fresh = MediaStorage(encoding="utf-8", read_mode="rb")
    fresh.save(b"fresh")
    assert stored.read() == b"post,fund_year,selected\nKE,2026,1\n"
    assert storages["default"].exists(f"django-import-export/{stored.name}")

    assert prune_abandoned_imports() == 0  # a day's grace
    assert prune_abandoned_imports(older_than=timedelta(seconds=-60)) == 2  # "a day later"
    assert not storages["default"].exists(f"django-import-export/{stored.name}")


def test_the_readiness_probe_writes_and_removes_through_the_object_store(s3, client):
    response = client.get(reverse("ready"))
    assert response.json()["checks"]["storage"] == "ok"
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_the_monthly_publication_is_made_once_however_often_it_fires_and_again_after_failure(
    filesystem, year, monkeypatch
):
    from reports.iati import services as iati_services
    from reports.tasks import publish_monthly_iati

    publishable_world(year)
    real = iati_services.write_export
    monkeypatch.setattr(iati_services, "write_export", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        publish_monthly_iati()
    [failed] = IatiExport.objects.all()
    assert failed.status == "failed" and failed.period == monthly_period()

    monkeypatch.setattr(iati_services, "write_export", real)
    first = publish_monthly_iati()
    again = publish_monthly_iati()  # a second beat, or the same message delivered twice
    assert first == again == failed.pk
    [export] = IatiExport.objects.all()
    assert export.status == "done" and export.file and export.failure_reason == ""
    # On request (the admin's button, the command) more files may be made in the month.
    make_export(actor=system_actor("tasks"))
    assert IatiExport.objects.count() == 2


def test_the_database_refuses_a_second_export_for_a_month(year):
    from django.db import IntegrityError, transaction

    IatiExport.objects.create(period="2026-12")
    with pytest.raises(IntegrityError), transaction.atomic():
        IatiExport.objects.create(period="2026-12")
    IatiExport.objects.create(period="")
    IatiExport.objects.create(period="")  # on request: as many as asked for


def test_an_interrupted_monthly_publication_is_made_again(filesystem, year):
    """Its worker killed mid-way (a deploy, the hard time limit): the redelivered task or the
    next fire makes it, not returns the half-made row."""
    from django.db import connection
    from django.utils import timezone

    from reports.iati.services import INTERRUPTED_AFTER
    from reports.tasks import publish_monthly_iati

    publishable_world(year)
    stuck = IatiExport.objects.create(period=monthly_period())
    if connection.vendor != "postgresql":  # SQLite has no lock to tell: its age does
        IatiExport.objects.filter(pk=stuck.pk).update(
            created_at=timezone.now() - INTERRUPTED_AFTER - timedelta(minutes=1)
        )
    assert publish_monthly_iati() == stuck.pk
    stuck.refresh_from_db()
    assert stuck.status == "done" and stuck.file
    assert stuck.created_at > timezone.now() - timedelta(minutes=5)  # counted as new


def test_a_file_the_storage_refuses_keeps_no_disclosure_state_R11(filesystem, year, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    from reports.models import IatiKeptActivity, IatiRegionCell

    actor = publishable_world(year)

    def refuse(self, name, content, max_length=None):
        raise OSError("the bucket is away")

    monkeypatch.setattr(FileSystemStorage, "save", refuse)
    with pytest.raises(OSError):
        make_export(actor=actor)
    [export] = IatiExport.objects.all()
    assert export.status == "failed" and not export.file
    assert not IatiKeptActivity.objects.exists() and not IatiRegionCell.objects.exists()


def test_no_export_is_made_while_a_published_file_is_missing_R11(filesystem, year):
    """The disclosure check reads every file the fund published; with one gone (a storage
    moved without its files) it cannot, and the export is refused instead of checked short."""
    from reports.iati.facts import MissingPublishedFile

    actor = publishable_world(year)
    first = make_export(actor=actor)
    (filesystem / first.file.name).unlink()
    with pytest.raises(MissingPublishedFile):
        make_export(actor=actor)
    assert IatiExport.objects.filter(status="failed").count() == 1
