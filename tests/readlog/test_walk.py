"""Nothing confidential without a record (R11): every admin page of the URL conf and every GET
operation of the OpenAPI schema, as each role that may see confidential data, is read by an
independent eye — this test's own, which knows the world's confidential names and looks for
them in the decoded page, JSON or spreadsheet — and a response that shows the participating
posts of 2026 or a highly sensitive partner's name without a read recorded in that request
fails the test. A page added later shows up here by itself (the URL conf and the schema are
walked, not a list)."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from countries.models import PostRole
from countries.services import membership_set
from fund.access import ensure_roles, system_actor
from grants.models import FundYear, Sensitivity
from readlog.models import Kind, Read
from tests import crawl
from tests.factories import PartnerFactory, PostFactory, UserFactory
from tests.helpers import make_participant, make_plan, make_project

# HTML- and JSON-special characters on purpose: the record must not depend on one spelling.
SECRET_PARTNER = "Stichting 'Verborgen' & Stemmen"
OTHER_SECRET = "Vereniging Stille Getuigen"
MINISTRY_ROLES = ("fondsbeheerder", "beoordelaar", "alleen-lezen")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import transaction

        transaction.set_autocommit(False)
        try:
            built = _build_world()
            yield built
        finally:
            transaction.rollback()
            transaction.set_autocommit(True)


def _build_world() -> dict:
    ensure_roles()
    actor = system_actor("seed")
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("9000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    participants = [make_participant(actor, year) for _ in range(3)]
    for post in participants:
        make_plan(actor, post, year)
    outsiders = [PostFactory() for _ in range(2)]
    secret = PartnerFactory(post=participants[0], name=SECRET_PARTNER,
                            sensitivity=Sensitivity.HIGH)  # fmt: skip
    make_project(actor, participants[0], partner=secret)
    # Another post's highly sensitive partner: the editor of the first must never see it.
    PartnerFactory(post=participants[1], name=OTHER_SECRET, sensitivity=Sensitivity.HIGH)
    users = {}
    for role in MINISTRY_ROLES:
        user = UserFactory(username=f"walk-{role}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        users[role] = user
    editor = UserFactory(username="walk-editor")
    membership_set(actor=actor, user=editor, post=participants[0], role=PostRole.EDITOR)
    from reports.services import build_report

    build_report("weekly", "2026-W20")
    return {"participants": participants, "outsiders": outsiders, "users": users,
            "editor": editor, "secret": secret}  # fmt: skip


def shown(response, world) -> set[str]:
    """What this test's own eye sees in a response: decoded, unescaped text."""
    content_type = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in content_type:
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            text = " ".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))
    else:
        text = body.decode("utf-8", errors="replace")
    if "json" in content_type:
        text = json.dumps(json.loads(text or "null"), ensure_ascii=False)
    text = html.unescape(text)
    seen = set()
    if SECRET_PARTNER in text or OTHER_SECRET in text:
        seen.add(Kind.PARTNER)

    def named(post) -> bool:
        return bool(re.search(rf"(?<![\w-]){re.escape(post.code)}(?![\w-])", text)) or (
            post.name in text
        )

    if any(named(post) for post in world["participants"]) and not all(
        named(post) for post in world["outsiders"]
    ):
        seen.add(Kind.PARTICIPATION)
    return seen


def admin_urls(world) -> list[str]:
    """Every GET-able admin URL of the URL conf (tests.crawl), object arguments filled with
    objects of the confidential world (the participants' own, where the model has a post);
    search results and autocompletes for a word of the partner's name and a participant's
    code."""
    terms = ("Verborgen", world["participants"][0].code)
    return crawl.admin_urls(lambda model_admin: _objects(model_admin, world), terms)


def _objects(model_admin, world) -> list:
    model = model_admin.model
    queryset = model._default_manager.all()
    fields = {f.name for f in model._meta.get_fields()}
    mine = world["participants"][0]
    if "post" in fields:
        queryset = queryset.filter(post=mine)
    elif model.__name__ == "Post":
        queryset = queryset.filter(pk=mine.pk)
    return list(queryset.order_by("pk")[:2])


def api_urls(client) -> list[str]:
    """Every GET operation of the OpenAPI schema, path parameters filled from its list."""
    schema = client.get("/api/schema/?format=json").json()
    lists = {}
    urls = []
    for path, operations in sorted(schema["paths"].items()):
        if "get" not in operations:
            continue
        if "{" not in path:
            urls.append(path)
            continue
        head, _param, tail = re.split(r"(\{[^}]+\})", path, maxsplit=1)
        if head not in lists:
            listed = client.get(head).json() if client.get(head).status_code == 200 else {}
            items = listed.get("results", listed) if isinstance(listed, dict) else listed
            lists[head] = [i.get("id") or i.get("year") for i in items or [] if isinstance(i, dict)]
        for value in lists[head][:1]:
            if "{" not in tail:
                urls.append(f"{head}{value}{tail}")
    return urls


def recorded_during(client, url) -> tuple[object, set[str]]:
    before = Read.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(url)
    kinds = set(Read.objects.filter(pk__gt=before).values_list("kind", flat=True))
    return response, kinds


@pytest.mark.django_db
@pytest.mark.parametrize("role", MINISTRY_ROLES)
def test_no_admin_page_shows_confidential_data_without_a_read_recorded_R11(world, role):
    client = Client()
    client.force_login(world["users"][role])
    unrecorded, showing = [], 0
    urls = admin_urls(world)
    assert len(urls) > 80  # the URL conf was walked, not a handful of pages
    for url in urls:
        response, kinds = recorded_during(client, url)
        if response.status_code != 200:
            continue
        seen = shown(response, world)
        showing += bool(seen)
        if seen - kinds:
            unrecorded.append((url, sorted(seen - kinds)))
    assert showing > 5  # the eye found confidential pages: the world is the right one
    assert unrecorded == []


@pytest.mark.django_db
def test_no_api_operation_shows_another_posts_confidential_data_unrecorded_R11(world):
    """A post sees its own participation and its own partners, which it entered itself: not
    a confidential read for it (docs/readlog.md). Anything of another post — another
    participant's code or name, another post's highly sensitive partner — must not appear;
    where it would, it would have to be recorded."""
    from knox.models import AuthToken

    _row, token = AuthToken.objects.create(world["editor"])
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    own = world["participants"][0]
    others = {**world, "participants": world["participants"][1:]}
    unrecorded, walked, own_shown = [], 0, 0
    for url in api_urls(client):
        response, kinds = recorded_during(client, url)
        if response.status_code != 200:
            continue
        walked += 1
        body = response.content.decode()
        own_shown += own.code in body or "Verborgen" in body
        seen = shown(response, others) - ({Kind.PARTNER} if OTHER_SECRET not in body else set())
        if seen - kinds:
            unrecorded.append((url, sorted(seen - kinds)))
    assert walked > 10 and own_shown >= 2  # the schema was walked; the post saw its own
    assert unrecorded == []
    assert not Read.objects.filter(user=world["editor"]).exists()  # its own data: no reads


@pytest.mark.django_db
def test_the_walk_would_find_a_page_that_records_nothing_R11(world, monkeypatch):
    """The test can fail: with the read log's eye shut, the walk finds unrecorded pages."""
    from readlog import services

    monkeypatch.setattr(services, "detected", lambda request, response: None)
    client = Client()
    client.force_login(world["users"]["fondsbeheerder"])
    missed = []
    for url in admin_urls(world):
        response, kinds = recorded_during(client, url)
        if response.status_code == 200 and shown(response, world) - kinds:
            missed.append(url)
    assert len(missed) > 5
