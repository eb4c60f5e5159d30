"""The read log finds a confidential name however the response spells it (R11): upper case,
after a JSON escape, as numeric HTML entities, with doubled spaces; and the selection page's
every page — also the posts left out, and its export — is a read of the year's list."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from fund.access import ensure_roles, system_actor
from grants.models import FundYear, Sensitivity
from readlog.models import Kind, Read
from readlog.selectors import find, readable
from tests.factories import PartnerFactory, PostFactory, UserFactory
from tests.helpers import make_participant

pytestmark = pytest.mark.django_db
NAME = "Stichting O'Brien Élan"


@pytest.fixture
def world():
    ensure_roles()
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("9000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    post = make_participant(system_actor("seed"), year)
    partner = PartnerFactory(post=post, name=NAME, sensitivity=Sensitivity.HIGH)
    return {"year": year, "post": post, "partner": partner}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"note": "regel\\nStichting O\'Brien \\u00c9lan"}', "application/json"),
        ("<td>STICHTING O&#39;BRIEN &#201;LAN</td>", "text/html"),
        ("<td>Stichting O&#x27;Brien&nbsp; &Eacute;lan</td>", "text/html"),
        ("<td>Stichting  O&apos;Brien\n Élan</td>", "text/html"),
    ],
)
def test_a_name_is_found_however_it_is_spelled_R11(world, body, content_type):
    assert find(readable(body, content_type)).partners == {str(world["partner"].public_id)}


def test_a_name_inside_another_word_is_not_it(world):
    assert not find(readable("<td>XStichting O'Brien Élanx</td>", "text/html")).partners


def test_every_page_of_the_selection_and_its_export_is_a_read_of_the_list_R11(world, client):
    from countries import services as country_services

    left_out = PostFactory(name="Ambassade Buiten")  # a candidate, not selected
    country_services.participation_set(actor=system_actor("seed"), post=left_out,
                                       fund_year=world["year"], selected=False)  # fmt: skip
    manager = UserFactory(username="fb-spell", is_staff=True)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    client.force_login(manager)
    changelist = reverse("admin:countries_participation_changelist")
    for query in ("", "?selected__exact=1", "?selected__exact=0"):
        before = Read.objects.count()
        assert client.get(changelist + query).status_code == 200
        reads = Read.objects.all()[: Read.objects.count() - before]
        # Also the page of only the posts left out: the list is its complement.
        assert [(r.kind, r.year) for r in reads] == [(Kind.PARTICIPATION, 2026)], query
    # The export, as a spreadsheet of every candidate with its decision.
    before = Read.objects.count()
    from django.contrib import admin
    from django.test import RequestFactory

    from countries.admin import ParticipationAdmin
    from countries.models import Participation

    request = RequestFactory().get("/admin/countries/participation/export/")
    request.user = manager
    model_admin = ParticipationAdmin(Participation, admin.site)
    from import_export.formats.base_formats import CSV

    model_admin.get_export_data(CSV(), request, Participation.objects.all())
    from readlog import services

    assert services.flush(request) == 1
    assert Read.objects.count() == before + 1
    assert Read.objects.first().year == 2026


def test_the_preview_of_a_selection_import_is_a_read_of_the_list_R11(world, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from readlog.models import Door

    manager = UserFactory(username="fb-import", is_staff=True)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    client.force_login(manager)
    upload = SimpleUploadedFile(
        "selectie.csv", f"post,fund_year,selected\n{world['post'].code},2026,1\n".encode(),
        content_type="text/csv",
    )  # fmt: skip
    response = client.post(reverse("admin:countries_participation_import"),
                           {"format": "0", "import_file": upload, "resource": "0"})  # fmt: skip
    assert response.status_code == 200 and "result" in response.context
    assert Read.objects.filter(kind=Kind.PARTICIPATION, door=Door.IMPORT).count() == 1
