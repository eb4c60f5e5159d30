"""Dutch to the last label (issue 20): every admin page of the URL conf as each ministry role,
every import preview, every report file and every command's output, under `nl`, is read by
this test's own eye, which fails on

- an English message of the project's own catalogue (its msgid shown where its Dutch belongs),
- an English sentence nobody marked for translation (English words that are not Dutch),
- a raw status or choice code ("submitted", "bilateral", "human_rights") where its label
  belongs, and
- "None" where a value is missing.

The English mode is read the same way for the catalogue's Dutch. Pages are found by walking
the URL conf (tests.crawl), so a page added later is read by itself."""

from __future__ import annotations

import gettext
import html
import io
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import translation

from tests import crawl
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PROJECT_APPS = {"countries", "grants", "priorities", "reports", "readlog", "outbox", "fund"}
MINISTRY_ROLES = ("fondsbeheerder", "beoordelaar", "alleen-lezen")
# English words no Dutch sentence has: one of them is an English text nobody translated.
ENGLISH_WORDS = {"the", "and", "with", "this", "that", "which", "from", "are", "your",
                 "you", "has", "have", "should", "there", "been", "not", "please", "select",
                 "yet"}  # fmt: skip
# Dutch words no English sentence has, for the English mode.
DUTCH_WORDS = {"het", "een", "niet", "voor", "zijn", "wordt", "geen", "naar", "jaarplan",
               "nog", "deze", "bij"}  # fmt: skip
# Shown as they are in both languages, on purpose.
NOT_A_MESSAGE = {"IATI", "ISO 3166", "XLSX", "CSV", "OpenAPI", "API"}


# --- The eye ----------------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """What a reader sees of a page: its text and the words of its buttons, titles and
    placeholders — not scripts, styles, or what a user typed into a field."""

    # Scripts, what a user typed, and code (a file's column names, a path) on purpose.
    HIDDEN = {"script", "style", "textarea", "noscript", "template", "code", "kbd"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden_depth += 1
        attributes = dict(attrs)
        for name in ("title", "placeholder", "aria-label", "alt"):
            if attributes.get(name):
                self.parts.append(attributes[name])
        if tag == "input" and attributes.get("type") in {"submit", "button"}:
            self.parts.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data):
        if not self.hidden_depth and data.strip():
            self.parts.append(data.strip())


def visible(html_text: str, data: frozenset[str] = frozenset()) -> str:
    """The page's text, without the pieces that are the fund's own data (`data`: written by
    its users in whatever language they wrote, or published code lists) or a URL path."""
    parser = VisibleText()
    parser.feed(html_text)
    return "\n".join(p for p in parser.parts if p not in data and not p.startswith("/"))


@cache
def _data_pattern(data: frozenset[str]):
    longest_first = sorted((v for v in data if len(v) > 5), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, longest_first))) if longest_first else None


def scrubbed(text: str, data: frozenset[str]) -> str:
    """The text without the data inside it (a title "Wijzig post DEMO-B01 Demo-ambassade")."""
    pattern = _data_pattern(data)
    return pattern.sub(" ", text) if pattern else text


def data_values() -> frozenset[str]:
    """Every text the world's rows hold (names, narratives, change reasons, the history's
    copies), the reference data's names in both languages, the OECD region names as the
    IATI code list publishes them, and each language's own name in the language switch."""
    from django.conf import settings
    from django.db import models

    values = set()
    for model in apps.get_models():
        kinds = models.CharField | models.TextField
        texts = [f.name for f in model._meta.get_fields()
                 if isinstance(f, kinds) and not f.choices]  # fmt: skip
        if texts and model._meta.app_label in PROJECT_APPS | {"auth"}:
            for row in model._default_manager.values_list(*texts):
                values.update(str(v).strip() for v in row if v and len(str(v).strip()) > 1)
        if model._meta.app_label in PROJECT_APPS and model._default_manager.count() < 3000:
            values.update(str(obj) for obj in model._default_manager.all())  # "CODE name"
    from countries.models import Country

    values.update(str(label) for _code, label in Country._meta.get_field("dac_region").choices)
    for code, _name in settings.LANGUAGES:
        values.add(translation.get_language_info(code)["name_local"])
    return frozenset(values)


@cache
def catalogue() -> tuple[tuple[str, str], ...]:
    """(English, Dutch) pairs of the project's own catalogue whose two differ, as the
    fragments a page would show (split at placeholders), of two words or a long word."""
    pairs = []
    with (ROOT / "locale/nl/LC_MESSAGES/django.mo").open("rb") as compiled:
        messages = gettext.GNUTranslations(compiled)._catalog
    for msgid, msgstr in messages.items():
        msgid = msgid[0] if isinstance(msgid, tuple) else msgid  # a plural's singular
        msgid = msgid.split("\x04")[-1]  # without its context
        if not msgid or not msgstr or msgid == msgstr or msgid in NOT_A_MESSAGE:
            continue
        english, dutch = _fragments(msgid), _fragments(msgstr)
        pairs += [(fragment, "en") for fragment in english if fragment not in msgstr]
        pairs += [(fragment, "nl") for fragment in dutch if fragment not in msgid]
    return tuple(pairs)


def _fragments(message: str) -> list[str]:
    pieces = re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|[\n:;()\[\]\"“”]", message)
    kept = []
    for piece in pieces:
        piece = piece.strip(" .,'")
        words = piece.split()
        if len(words) >= 2 or (len(words) == 1 and len(piece) >= 8 and piece.isalpha()):
            kept.append(piece)
    return kept


@cache
def raw_codes() -> frozenset[str]:
    """Stored values of the project's choices that differ from their label and read as a
    word (a status, a kind, a theme): shown raw, the reader sees a code, not Dutch."""
    codes = set()
    with translation.override("nl"):
        for model in apps.get_models():
            if model._meta.app_label not in PROJECT_APPS:
                continue
            for field in model._meta.get_fields():
                for value, label in getattr(field, "flatchoices", None) or ():
                    word = isinstance(value, str) and re.fullmatch(r"[a-z][a-z_]{3,}", value)
                    if word and value.lower() != str(label).lower():
                        codes.add(value)
    # Ordinary words as well as codes: read as codes only where nothing else could mean them.
    return frozenset(codes - {"admin", "import", "export", "file", "task", "partner", "impact",
                              "expertise", "command", "normal", "editor", "done", "high",
                              "results", "participation", "sent", "inspection",
                              "sensitivity", "reset", "planned"})  # fmt: skip


def judged(text: str, language: str = "nl") -> list[str]:
    """What is wrong with a text a reader sees in `language`: empty when nothing is."""
    found = []
    words = set(re.findall(r"[A-Za-z]+", text))
    lower = {word.lower() for word in words}
    if language == "nl":
        if re.search(r"(?<![\w-])None(?![\w-])", text):
            found.append("None")
        found += [f"English word {word!r}" for word in sorted(ENGLISH_WORDS & lower)]
        found += [
            f"raw code {code!r}"
            for code in sorted(raw_codes())
            if re.search(rf"(?<![\w/.=-]){code}(?![\w/.=-])", text)
        ]
    else:
        found += [f"Dutch word {word!r}" for word in sorted(DUTCH_WORDS & lower)]
    for fragment, fragment_language in catalogue():
        if fragment_language != language and _contains(text, fragment):
            found.append(f"{'English' if language == 'nl' else 'Dutch'} {fragment!r}")
    return found


def _contains(text: str, fragment: str) -> bool:
    return bool(re.search(rf"(?<!\w){re.escape(fragment)}(?!\w)", text))


# --- The world --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo world (every status, history, reports, the read log) seeded once for the
    module and rolled back at its end; the seed's own output is kept to be read."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            output = io.StringIO()
            with translation.override("nl"):
                call_command("seed_demo", stdout=output)
            users = {}
            for role in MINISTRY_ROLES:
                user = UserFactory(username=f"taal-{role}", is_staff=True)
                user.groups.add(Group.objects.get(name=role))
                users[role] = user
            yield {"seed_output": output.getvalue(), "users": users, "data": data_values()}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _objects(model_admin) -> list:
    """Two objects of each kind: the first and one late in the demo (another status)."""
    queryset = model_admin.model._default_manager.order_by("pk")
    first, last = queryset.first(), queryset.last()
    return [obj for obj in (first, last) if obj is not None][: 1 if first == last else 2]


def _pages(client, urls, data):
    for url in urls:
        response = client.get(url)
        content_type = response.get("Content-Type", "")
        if response.status_code != 200 or response.streaming:
            continue
        if "text/html" in content_type:
            yield url, scrubbed(visible(response.content.decode(), data), data)
        elif "spreadsheetml" in content_type:
            yield url, scrubbed(spreadsheet_text(response.content), data)


def spreadsheet_text(body: bytes) -> str:
    """Sheet names and header rows: what a reader of an exported or reported file sees
    before the data (the data are the fund's own, in whatever language it was written)."""
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    parts = list(book.sheetnames)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(max_row=1, values_only=True):
            parts += [str(cell) for cell in row if cell is not None]
        if sheet.title == book.sheetnames[0]:  # a summary sheet: figures named in column A
            parts += [str(r[0]) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]
    return "\n".join(parts)


@pytest.mark.django_db
@pytest.mark.parametrize("role", MINISTRY_ROLES)
def test_every_admin_page_is_dutch_to_the_last_label(demo, role):
    client = Client()
    client.force_login(demo["users"][role])
    urls = crawl.admin_urls(_objects, search_terms=("Nairobi",))
    assert len(urls) > 80  # the URL conf was walked, not a handful of pages
    faults, read = {}, 0
    with translation.override("nl"):
        for url, text in _pages(client, urls, demo["data"]):
            read += 1
            if problems := judged(text):
                faults[url] = problems
    assert read > 40
    assert faults == {}


@pytest.mark.django_db
def test_the_english_mode_is_as_complete(demo):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(demo["users"]["fondsbeheerder"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    faults = {}
    with translation.override("en"):
        for url, text in _pages(client, crawl.admin_urls(_objects), demo["data"]):
            if problems := judged(text, "en"):
                faults[url] = problems
    assert faults == {}


SAMPLES = {
    "/admin/countries/post/import/": "posts.csv",
    "/admin/countries/participation/import/": "participations.csv",
    "/admin/grants/allocation/import/": "allocations.csv",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "sample"), sorted(SAMPLES.items()))
def test_an_import_preview_shows_labels_and_values_not_field_names(demo, url, sample):
    """The docs' sample file, as it is and with one row refused: headers are the columns'
    Dutch names, a kind or a yes/no its Dutch word, a refusal its reason."""
    client = Client()
    client.force_login(demo["users"]["fondsbeheerder"])
    text = (ROOT / "docs/import" / sample).read_text()
    refused = text + text.splitlines()[1].replace("XX-", "QQ-", 1).replace(",2028", ",1999") + "\n"
    for body in (text, refused):
        upload = SimpleUploadedFile(sample, body.encode(), "text/csv")
        response = client.post(url, {"resource": "0", "format": "0", "import_file": upload})
        assert response.status_code == 200
        page = visible(response.content.decode(), demo["data"])
        assert "XX-NAI" in page  # the preview (or the refusal) shows the rows
        headers = re.findall(r"<th>([^<]*)</th>", response.content.decode())
        assert not [h for h in headers if re.fullmatch(r"[a-z_]+", h.strip())], headers
        assert judged(page) == []


@pytest.mark.django_db
def test_every_report_file_is_dutch_with_numbers_as_numbers(demo):
    from reports.models import Report, ReportKind
    from reports.services import build_report

    for kind in ReportKind.values:
        build_report(kind)
    reports = list(Report.objects.exclude(xlsx=b""))
    assert {r.kind for r in reports} >= {"weekly", "monthly", "results"}
    for report in reports:
        text = spreadsheet_text(bytes(report.xlsx))
        assert judged(text) == [], report.kind
        assert not re.search(r"(?m)^[a-z]+_[a-z_]+$", text), (report.kind, text)  # no keys
        book = openpyxl.load_workbook(io.BytesIO(bytes(report.xlsx)))
        if "Per post" in book.sheetnames:  # the share disbursed: a number shown as a percentage
            sheet = book["Per post"]
            column = [c.value for c in sheet[1]].index("Aandeel betaald") + 1
            shares = [row[0] for row in sheet.iter_rows(min_row=2, min_col=column,
                                                       max_col=column) if row[0].value]  # fmt: skip
            assert shares and all(cell.number_format == "0.0%" for cell in shares)
            assert all(isinstance(c.value, float) and 0 <= c.value <= 1 for c in shares)
        header = report.csv.splitlines()[0] if report.csv else ""
        assert judged(header.replace(",", "\n")) == [], header


@pytest.mark.django_db
def test_every_command_speaks_dutch(demo, tmp_path):
    outputs = {"seed_demo": demo["seed_output"]}
    password = tmp_path / "password"
    password.write_text("Een-lang-wachtwoord-2026!")
    for name, args in {
        "make_report": ("weekly",),
        "export_iati": ("--year", "2026", "--out", str(tmp_path / "iati.xml")),
        "create_ministry_user": (
            "taal-nieuw",
            "--role",
            "beoordelaar",
            "--password-file",
            str(password),
        ),
        "create_post_user": ("taal-post", "--post", "DEMO-B01", "--role", "editor"),
    }.items():
        output = io.StringIO()
        with translation.override("nl"):
            call_command(name, *args, stdout=output, stderr=output)
        outputs[name] = output.getvalue()
    faults = {name: judged(text) for name, text in outputs.items() if judged(text)}
    assert all(outputs.values())
    assert set(outputs) == project_commands()  # a command added later must be read here too
    assert faults == {}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ("beoordelaar", "alleen-lezen"))
def test_a_masked_partner_has_no_link_to_the_page_that_refuses_it_R11(demo, role):
    from grants.models import Partner, Sensitivity

    client = Client()
    client.force_login(demo["users"][role])
    page = client.get("/admin/grants/partner/?all=").content.decode()
    links = _links(page)
    hidden = Partner.objects.filter(sensitivity=Sensitivity.HIGH).values_list("pk", flat=True)
    assert hidden and any(re.search(r"/partner/\d+/change/", link) for link in links)
    assert not [pk for pk in hidden if any(f"/partner/{pk}/change/" in link for link in links)]


def project_commands() -> set[str]:
    return {
        path.stem
        for path in ROOT.glob("*/management/commands/*.py")
        if not path.stem.startswith("_") and ".venv" not in path.parts
    }


def test_the_eye_sees_what_it_must():
    """The eye can fail: English, a raw code and None are each found; Dutch passes."""
    assert judged("Reden van wijziging: None") == ["None"]
    assert "raw code 'submitted'" in judged("Status: submitted → returned")
    assert any("English" in p for p in judged("Annual plans"))
    assert judged("Jaarplannen: 3 ingediend, 1 goedgekeurd.") == []
    assert judged("Jaarplannen", "en")
    assert visible("<p>a<script>the and</script><input type=submit value='Save'></p>") == "a\nSave"


# --- No link to a refusal ---------------------------------------------------------------------


def _links(html_text: str) -> set[str]:
    return {
        html.unescape(href).split("#")[0]
        for href in re.findall(r'href="(/admin/[^"]*)"', html_text)
        if "/logout/" not in href
    }


def _shape(url: str) -> str:
    """Links that differ only in an object's number or a query's value lead to one page."""
    return re.sub(r"=[^&]*", "=", re.sub(r"/\d+/", "/N/", url))


@pytest.mark.django_db
@pytest.mark.parametrize("role", MINISTRY_ROLES)
def test_no_link_leads_a_role_to_a_page_it_may_not_open(demo, role):
    """Issue 20: a reviewer was offered links that end in 403. Every link on every page a
    role opens (one per kind of link) must open for that role."""
    client = Client()
    client.force_login(demo["users"][role])
    shapes: dict[tuple[str, str], tuple[str, str]] = {}
    for url in crawl.admin_urls(_objects):
        response = client.get(url)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            for link in sorted(_links(response.content.decode())):
                shapes.setdefault((_shape(link), _shape(url)), (link, url))
    assert len(shapes) > 50
    refused, status_of = {}, {}
    for link, found_on in shapes.values():
        if _shape(link) not in status_of:
            status_of[_shape(link)] = client.get(link).status_code
        if status_of[_shape(link)] == 403:
            refused[found_on] = link
    assert refused == {}
