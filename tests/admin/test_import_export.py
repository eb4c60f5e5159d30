"""Import of posts, participations and allocations through the services, all or nothing,
with a dry-run preview and row errors naming the rule; export to XLSX (R1, R5, R6)."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from countries.models import Participation, Post
from fund.access import ensure_roles
from grants.models import Allocation, FundYear
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db

CSV = "0"  # the first of the admin's formats: CSV, XLSX


@pytest.fixture
def manager(client):
    ensure_roles()
    FundYear.objects.create(
        year=2027, envelope=Decimal("36000000.00"), plan_submission_deadline=date(2026, 11, 15)
    )
    user = UserFactory(username="fondsbeheerder-1", is_staff=True)
    user.groups.add(Group.objects.get(name="fondsbeheerder"))
    client.force_login(user)
    return client


def upload(client, url, text: str):
    """The admin's two steps: upload (a dry run, shown as a preview), then confirm."""
    preview = client.post(
        url,
        {
            "resource": "0",
            "format": CSV,
            "import_file": SimpleUploadedFile("rows.csv", text.encode(), "text/csv"),
        },
    )
    return preview


def confirm(client, url, preview):
    form = preview.context["confirm_form"]
    return client.post(
        url.replace("/import/", "/process_import/"),
        {name: form.initial.get(name, field.initial) for name, field in form.fields.items()},
        follow=True,
    )


POSTS = "code,name,kind,city,host_country\nXX-NAI,Nairobi,bilateral,Nairobi,KE\n"


def test_a_good_file_is_previewed_then_imported_through_the_services(manager):
    url = "/admin/countries/post/import/"
    preview = upload(manager, url, POSTS)
    assert preview.status_code == 200
    assert not Post.objects.filter(code="XX-NAI").exists()  # the preview writes nothing
    confirm(manager, url, preview)
    post = Post.objects.get(code="XX-NAI")
    assert post.history.first().history_user.username == "fondsbeheerder-1"  # the service


def test_one_refused_row_imports_nothing_and_names_its_row_and_rule_R5(manager):
    from countries.services import participation_set
    from tests.factories import StaffFactory

    post = PostFactory(code="XX-A")
    year = FundYear.objects.get(year=2027)
    participation_set(actor=StaffFactory(username="b"), post=post, fund_year=year, selected=True)
    rows = "post,fund_year,amount,note\nXX-A,2027,100.00,ok\nXX-A,2027,-5.00,negative\n"
    preview = upload(manager, "/admin/grants/allocation/import/", rows)
    html = preview.content.decode()
    assert "[R5]" in html
    # The reason in plain sight, in the refused row's own cell (issue 20), not on hover.
    refusals = html[html.find('class="import-preview import-refusals"') :]
    assert '<td class="refusal">' in refusals and "[R5]" in refusals
    assert "validation-error-count" not in html
    assert preview.context.get("confirm_form") is None  # nothing to confirm
    result = preview.context["result"]
    assert [row.number for row in result.invalid_rows] == [2]  # the second data row
    assert not Allocation.objects.exists()


def test_a_post_not_selected_gets_no_allocation_from_an_import_R6(manager):
    PostFactory(code="XX-B")
    preview = upload(
        manager, "/admin/grants/allocation/import/", "post,fund_year,amount,note\nXX-B,2027,1,\n"
    )
    assert "[R6]" in preview.content.decode()
    assert not Allocation.objects.exists()


def test_selections_beyond_31_refuse_the_whole_file_R1(manager):
    from countries.services import participation_set
    from tests.factories import StaffFactory

    year = FundYear.objects.get(year=2027)
    builder = StaffFactory(username="builder")
    for _index in range(30):
        participation_set(actor=builder, post=PostFactory(), fund_year=year, selected=True)
    PostFactory(code="XX-31")
    PostFactory(code="XX-32")
    rows = "post,fund_year,selected,decision_note\nXX-31,2027,1,\nXX-32,2027,1,\n"
    preview = upload(manager, "/admin/countries/participation/import/", rows)
    html = preview.content.decode()
    assert "[R1]" in html
    assert not Participation.objects.filter(post__code__in=["XX-31", "XX-32"]).exists()


def test_a_reader_may_export_but_not_import(client, manager):
    user = UserFactory(username="reader", is_staff=True)
    user.groups.add(Group.objects.get(name="alleen-lezen"))
    client.force_login(user)
    assert client.get("/admin/countries/post/import/").status_code == 403
    PostFactory(code="XX-E", name="Export")
    columns = ["code", "name", "kind", "city", "host_country"]
    response = client.post(
        "/admin/countries/post/export/",
        {"format": "1", "resource": "0", **{f"postresource_{c}": "on" for c in columns}},
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:2] == ("code", "name")
    assert ("XX-E", "Export") in [row[:2] for row in rows[1:]]


def test_the_sample_files_in_docs_import_cleanly(manager):
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "import"
    FundYear.objects.create(  # the samples' year (on the demo data: the year in preparation)
        year=2028, envelope=Decimal("36000000.00"), plan_submission_deadline=date(2027, 11, 15)
    )
    for name, url in [
        ("posts.csv", "/admin/countries/post/import/"),
        ("participations.csv", "/admin/countries/participation/import/"),
        ("allocations.csv", "/admin/grants/allocation/import/"),
    ]:
        preview = upload(manager, url, (docs / name).read_text())
        assert preview.context.get("confirm_form") is not None, name
        confirm(manager, url, preview)
    assert Allocation.objects.filter(post__code="XX-NAI", fund_year__year=2028).exists()


def test_a_row_refused_between_preview_and_confirm_leaves_nothing_written_R5(manager):
    """Another user's change after the preview turns a row into a refusal: the confirmed
    import writes nothing and says which row and rule."""
    from countries.services import participation_set
    from grants.services import allocation_set
    from tests.factories import StaffFactory

    year = FundYear.objects.get(year=2027)  # envelope € 36,000,000
    other = StaffFactory(username="other-manager")
    for code in ("XX-1", "XX-2", "XX-3"):
        participation_set(actor=other, post=PostFactory(code=code), fund_year=year, selected=True)
    rows = "post,fund_year,amount,note\nXX-1,2027,10000000.00,\nXX-2,2027,10000000.00,\n"
    url = "/admin/grants/allocation/import/"
    preview = upload(manager, url, rows)
    assert preview.context.get("confirm_form") is not None
    xx3 = Post.objects.get(code="XX-3")
    allocation_set(actor=other, post=xx3, fund_year=year, amount=Decimal("20000000.00"))
    response = confirm(manager, url, preview)
    html = response.content.decode()
    assert "[R5]" in html
    assert not Allocation.objects.filter(post__code__in=["XX-1", "XX-2"]).exists()


def test_confirming_an_import_twice_is_explained(manager):
    url = "/admin/countries/post/import/"
    preview = upload(manager, url, POSTS)
    confirm(manager, url, preview)
    again = confirm(manager, url, preview)
    assert again.status_code == 200
    assert Post.objects.filter(code="XX-NAI").count() == 1


def test_dutch_spreadsheet_files_import_semicolons_and_ja_nee(manager):
    PostFactory(code="XX-J")
    rows = "\ufeffpost;fund_year;selected;decision_note\nXX-J;2027;ja;Geselecteerd\n"
    url = "/admin/countries/participation/import/"
    preview = upload(manager, url, rows)
    assert preview.context.get("confirm_form") is not None, preview.content.decode()[-2000:]
    confirm(manager, url, preview)
    assert Participation.objects.get(post__code="XX-J").selected is True


def test_an_unclear_yes_no_is_an_error_not_a_silent_no(manager):
    PostFactory(code="XX-K")
    rows = "post,fund_year,selected,decision_note\nXX-K,2027,misschien,\n"
    preview = upload(manager, "/admin/countries/participation/import/", rows)
    assert preview.context.get("confirm_form") is None
    assert "misschien" in preview.content.decode()


def test_an_unknown_post_or_year_is_named_in_the_row_error(manager):
    PostFactory(code="XX-P")
    rows = "post,fund_year,amount,note\nXX-NONE,2027,1.00,\nXX-P,1999,1.00,\n"
    preview = upload(manager, "/admin/grants/allocation/import/", rows)
    html = preview.content.decode()
    assert "Er is geen post met code &#x27;XX-NONE&#x27;" in html
    assert "Er is geen fondsjaar 1999" in html
    assert "matching query does not exist" not in html
    assert preview.context.get("confirm_form") is None
