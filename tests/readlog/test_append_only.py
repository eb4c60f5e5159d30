"""The read log cannot be changed or emptied (R11): not through the models, not through the
admin (the superuser included), and on PostgreSQL not even by SQL; pruning past the retention
is the only removal, and it is recorded."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from readlog import services
from readlog.models import AppendOnly, Door, Kind, Read
from tests.helpers import postgres_only

pytestmark = pytest.mark.django_db


def a_read(**kw) -> Read:
    return services.record_now(None, Kind.PARTICIPATION, ["p1"], door=Door.COMMAND, **kw)


def test_a_record_cannot_be_changed_or_deleted_through_the_models_R11():
    read = a_read()
    read.purpose = "changed"
    with pytest.raises(AppendOnly):
        read.save()
    with pytest.raises(AppendOnly):
        read.delete()
    with pytest.raises(AppendOnly):
        Read.objects.filter(pk=read.pk).update(purpose="changed")
    with pytest.raises(AppendOnly):
        Read.objects.all().delete()
    assert Read.objects.get(pk=read.pk).purpose == ""


def test_not_even_the_superuser_can_add_change_or_delete_in_the_admin_R11(admin_client):
    read = a_read()
    changelist = admin_client.get(reverse("admin:readlog_read_changelist"))
    assert changelist.status_code == 200
    assert admin_client.get(reverse("admin:readlog_read_add")).status_code == 403
    detail = admin_client.get(reverse("admin:readlog_read_change", args=[read.pk]))
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert (
        admin_client.post(reverse("admin:readlog_read_delete", args=[read.pk])).status_code == 403
    )
    assert admin_client.post(
        reverse("admin:readlog_read_changelist"),
        {"action": "delete_selected", "_selected_action": [read.pk], "post": "yes"},
    ).status_code in (200, 302)
    assert Read.objects.filter(pk=read.pk).exists()


@postgres_only
def test_postgresql_refuses_update_and_delete_on_the_table_R11():
    read = a_read()
    for statement in ("UPDATE readlog_read SET purpose = 'x' WHERE id = %s",
                      "DELETE FROM readlog_read WHERE id = %s"):  # fmt: skip
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [read.pk])
    assert Read.objects.filter(pk=read.pk, purpose="").exists()


def test_pruning_past_the_retention_is_the_only_removal_and_is_recorded(settings):
    old, new = a_read(), a_read()
    ancient = Read(user=None, kind=Kind.PARTNER, door=Door.ADMIN,
                   at=timezone.now() - timedelta(days=400))  # fmt: skip
    Read.objects.bulk_create([ancient])
    settings.READLOG_KEEP_DAYS = 0
    assert services.prune() == 0  # the default keeps everything
    settings.READLOG_KEEP_DAYS = 365
    assert services.prune() == 1
    kinds = list(Read.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == [Kind.PARTICIPATION, Kind.PARTICIPATION, Kind.PRUNED]
    assert {old.pk, new.pk} <= set(Read.objects.values_list("pk", flat=True))
    pruned = Read.objects.get(kind=Kind.PRUNED)
    assert "1 reads older than 365 days" in pruned.purpose


def test_a_response_whose_read_cannot_be_recorded_is_not_sent_R11(client, monkeypatch):
    """Fail closed: nothing confidential leaves without its record."""
    from tests.factories import UserFactory

    user = UserFactory(username="lezer", is_staff=True, is_superuser=True)
    client.force_login(user)

    def broken(request):
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(services, "flush", broken)
    assert client.get(reverse("admin:index")).status_code == 503


def test_an_api_response_to_a_token_is_read_and_fails_closed_too_R11(client, monkeypatch):
    """A token's user is known only once the API view has run (DRF authenticates there):
    the read log looks at the response after it, so a token's request is read as a session's
    is, and is not sent when its reads cannot be kept."""
    from knox.models import AuthToken

    from countries.models import PostRole
    from countries.services import membership_set
    from fund.access import system_actor
    from tests.factories import PostFactory, UserFactory

    editor = UserFactory(username="token-lezer")
    membership_set(actor=system_actor("seed"), user=editor, post=PostFactory(),
                   role=PostRole.EDITOR)  # fmt: skip
    _row, token = AuthToken.objects.create(editor)
    seen = []
    real_detected = services.detected
    monkeypatch.setattr(services, "detected",
                        lambda request, response: seen.append(request.user) or real_detected(
                            request, response))  # fmt: skip
    answer = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert answer.status_code == 200 and seen == [editor]

    def broken(request):
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(services, "flush", broken)
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 503


def test_downloading_a_file_is_a_read_of_it_R11(client, settings, tmp_path):
    """Streamed files (the IATI download) are noted by their view; report files too, with
    what they name found in them."""
    from django.contrib.auth.models import Group
    from django.core.files.base import ContentFile

    from fund.access import ensure_roles
    from reports.models import IatiExport, ReportStatus
    from tests.factories import UserFactory

    settings.MEDIA_ROOT = tmp_path
    ensure_roles()
    manager = UserFactory(username="fb-file", is_staff=True)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    export = IatiExport.objects.create(status=ReportStatus.DONE)
    export.file.save("iati.xml", ContentFile(b"<iati-activities/>"))
    client.force_login(manager)
    response = client.get(reverse("admin:reports_iatiexport_download", args=[export.pk]))
    assert response.status_code == 200
    [read] = Read.objects.filter(kind=Kind.IATI_FILE)
    assert read.user == manager and read.door == Door.FILE and read.object_ids == [str(export.pk)]


@postgres_only
def test_while_pruning_the_database_still_refuses_recent_records_R11():
    from django.db import DatabaseError

    recent = a_read()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL readlog.pruning = 'on'")
        cursor.execute("SET LOCAL readlog.keep_days = '30'")
        cursor.execute("DELETE FROM readlog_read WHERE id = %s", [recent.pk])
    assert Read.objects.filter(pk=recent.pk).exists()
