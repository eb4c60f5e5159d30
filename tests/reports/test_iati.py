"""The IATI 2.03 export under the sensitivity policy (R11, R13): valid against the official
schema, each policy outcome in its form, no leak of a confidential partner, country or small
region, and money that adds up to an independent computation."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import etree

from countries import services as country_services
from countries.models import Country, Participation, Post
from fund.access import Action, system_actor
from fund.checks import FundRuleError
from fund.codelists import codelist
from grants import services
from grants.models import FundYear, Partner, PartnerType, ProjectStatus, Sensitivity
from priorities.models import IntendedResult
from reports.iati import policy
from reports.iati.export import InvalidExport, NothingToPublish, _Context, write_export
from reports.iati.policy import Outcome
from reports.iati.services import make_export, prune
from reports.models import IatiExport
from tests.factories import PartnerFactory, PostFactory, UserFactory, country
from tests.helpers import (
    grant_clearance,
    make_participant,
    make_plan,
    postgres_only,
    priority,
    refuses,
)

pytestmark = pytest.mark.django_db
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The file's form and money are tested in worlds of one post; k is set where it is tested.
    settings.IATI_REGION_MIN_POSTS = 1


@pytest.fixture
def k3(settings):
    settings.IATI_REGION_MIN_POSTS = 3


@pytest.fixture
def year():
    return FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )


@pytest.fixture
def actor():
    return system_actor("seed")


def export(tmp_path, **kw) -> tuple[etree._Element, dict]:
    path = tmp_path / "iati.xml"
    counts = write_export(path, **kw)
    return etree.parse(str(path)).getroot(), counts


def participant(actor, year, code, *, published=False):
    post = make_participant(actor, year, host_country=country(code))
    make_plan(actor, post, year, priorities=(("women_girls", "500000.00"),))
    if published:
        participation = Participation.objects.get(post=post, fund_year=year)
        country_services.participation_publish(
            actor=actor, participation=participation, published=True
        )
    return post


def project(actor, post, partner, *, title="Project", budget=None, status=ProjectStatus.ACTIVE):
    result = IntendedResult.objects.filter(priority__code="women_girls").order_by("position")[0]
    created = services.project_create(
        actor=actor,
        post=post,
        partner=partner,
        priority=priority("women_girls"),
        title=title,
        description=f"{title}: beschrijving",
        start_date=date(2026, 1, 1),
        end_date=date(max(budget or {2026: 0}), 12, 31),
        status=status,
        budget=budget or {2026: Decimal("150000.00")},
        intended_results=[result],
    )
    indicator = services.indicator_save(
        actor=actor,
        project=created,
        intended_result=result,
        name=f"{title} indicator",
        unit="cases",
        baseline=Decimal("10"),
        target=Decimal("40"),
    )
    services.indicator_value_set(actor=actor, indicator=indicator, year=2026, value=Decimal("25"))
    return created


def activity_of(root, project_):
    [found] = root.xpath(f"iati-activity[iati-identifier='XM-DAC-7-{project_.public_id}']")
    return found


def texts(element) -> str:
    return " ".join(element.itertext())


# --- The policy -----------------------------------------------------------------------------


def test_the_facts_read_distinct_histories_not_every_history_row_R11(tmp_path, year, actor):
    """The public facts and the export's context read what the histories ever said, once
    each: a DISTINCT over a history with its default order (newest first) would count each
    history row as distinct and fetch them all (520 MB at 1 000 000 projects,
    docs/performance.md)."""
    from reports.iati.facts import public_facts

    post = participant(actor, year, "KE", published=True)
    partner = PartnerFactory(post=post, country=country("KE"))
    made = project(actor, post, partner, title="Eerste titel")
    for title in ("Tweede titel", "Derde titel"):  # more history rows, the same facts
        services.project_update(actor=actor, project=made, title=title)
    with CaptureQueriesContext(connection) as captured:
        facts = public_facts()
        _Context.load(None)
    distinct = [q["sql"] for q in captured if "SELECT DISTINCT" in q["sql"].upper()]
    assert distinct
    for sql in distinct:
        assert "history_date" not in sql and "history_id" not in sql, sql
    assert facts["posts"][post.pk]["years"][2026]["priorities"] == ["women_girls"]


@pytest.mark.parametrize(
    ("sensitivity", "cleared", "public", "expected"),
    [
        (Sensitivity.NORMAL, True, True, Outcome.FULL),
        (Sensitivity.SENSITIVE, True, True, Outcome.FULL),
        (Sensitivity.HIGH, True, True, Outcome.FULL),  # cleared case by case
        (Sensitivity.NORMAL, False, True, Outcome.REDUCED),
        (Sensitivity.NORMAL, True, False, Outcome.REDUCED),
        (Sensitivity.SENSITIVE, False, False, Outcome.REDUCED),
        (Sensitivity.HIGH, True, False, Outcome.REDUCED),
        (Sensitivity.HIGH, False, True, Outcome.EXCLUDED),
        (Sensitivity.HIGH, False, False, Outcome.EXCLUDED),
    ],
)
def test_the_policy_decides_full_reduced_or_excluded_R11(sensitivity, cleared, public, expected):
    decided = policy.outcome(sensitivity=sensitivity, cleared=cleared, participation_public=public)
    assert decided == expected


def test_each_outcome_has_its_form_in_the_file_R11(tmp_path, year, actor, k3):
    public_post = participant(actor, year, "KE", published=True)
    hidden_post = participant(actor, year, "UG")
    participant(actor, year, "TZ")
    cleared = PartnerFactory(
        post=public_post, name="Open Stichting", cleared_for_publication=True,
        sensitivity=Sensitivity.NORMAL, country=country("KE"),
    )  # fmt: skip
    anonymous = PartnerFactory(
        post=hidden_post, name="Stille Groep", partner_type=PartnerType.LOCAL_CSO,
        sensitivity=Sensitivity.SENSITIVE, country=country("UG"),
    )  # fmt: skip
    endangered = PartnerFactory(
        post=hidden_post, name="Gevaar Collectief", sensitivity=Sensitivity.HIGH,
        country=country("UG"),
    )  # fmt: skip
    full = project(actor, public_post, cleared, title="Open project")
    reduced = project(actor, hidden_post, anonymous, title="Stil project in Kampala")
    excluded = project(actor, hidden_post, endangered, title="Gevaarlijk project")
    grant_clearance(cleared)  # after the texts were written: the clearance covers them

    root, counts = export(tmp_path)

    assert counts == {"full": 1, "reduced": 1, "excluded": 1, "withheld": 0}
    shown = activity_of(root, full)
    assert shown.findtext("title/narrative") == "Open project"
    assert shown.find("recipient-country").get("code") == "KE"
    assert shown.find("participating-org[@role='4']").findtext("narrative") == "Open Stichting"
    assert "Open project indicator" in texts(shown.find("result"))

    anonymised = activity_of(root, reduced)
    implementing = anonymised.find("participating-org[@role='4']")
    assert implementing.get("type") == "22"  # National NGO: the type, nothing more
    assert anonymised.find("recipient-country") is None
    # Three participating posts in Eastern Africa (KE, UG, TZ): the region is named.
    assert anonymised.find("recipient-region").get("code") == "1027"
    assert "Kampala" not in texts(anonymised) and "Stille Groep" not in texts(anonymised)
    assert {n.get(XML_LANG) for n in anonymised.find("title")} == {"nl", "en"}

    assert not root.xpath(f"//iati-identifier[contains(., '{excluded.public_id}')]")
    assert "Gevaar" not in etree.tostring(root, encoding="unicode")


def test_a_country_of_a_confidential_post_is_never_named_even_for_a_cleared_partner_R11(
    tmp_path, year, actor, k3
):
    """A public post funds a cleared partner working in the country of a post whose
    participation is confidential: the country would reveal that post, and the partner's name
    and texts would point at it: reduced, in a region."""
    public_post = participant(actor, year, "KE", published=True)
    participant(actor, year, "UG")
    participant(actor, year, "TZ")
    partner = PartnerFactory(post=public_post, cleared_for_publication=True, country=country("UG"))
    item = project(actor, public_post, partner)

    root, counts = export(tmp_path)

    assert counts["full"] == 0 and counts["reduced"] == 1
    assert "Partner" not in texts(activity_of(root, item).find("participating-org[@role='4']"))
    assert activity_of(root, item).find("recipient-country") is None
    assert activity_of(root, item).find("recipient-region").get("code") == "1027"


def test_a_region_with_fewer_than_k_posts_falls_back_to_a_wider_one_down_to_998_R11(
    tmp_path, year, actor, k3
):
    alone = participant(actor, year, "KE")  # the only post in Eastern Africa
    participant(actor, year, "NG")  # Western Africa
    participant(actor, year, "GH")  # Western Africa
    lonely = project(actor, alone, PartnerFactory(post=alone, country=country("KE")))

    root, _counts = export(tmp_path)

    # 1027 Eastern Africa holds one post; 289 South of Sahara holds three.
    assert activity_of(root, lonely).find("recipient-region").get("code") == "289"


def test_a_single_participating_post_in_the_world_is_held_back_R11(tmp_path, year, actor, k3):
    """Even 998 would stand for one post: nothing reduced can be published yet."""
    alone = participant(actor, year, "KE")
    project(actor, alone, PartnerFactory(post=alone, country=country("KE")))

    with pytest.raises(NothingToPublish, match="1 held back"):
        export(tmp_path)


def test_the_participation_is_public_only_for_a_selected_post_R11(year, actor):
    post = make_participant(actor, year, allocation=None)
    participation = Participation.objects.get(post=post, fund_year=year)
    country_services.participation_publish(actor=actor, participation=participation, published=True)
    country_services.participation_set(actor=actor, post=post, fund_year=year, selected=False)
    participation.refresh_from_db()
    assert participation.published is False  # leaving the fund makes it confidential again
    with refuses("R11", field="published"):
        country_services.participation_publish(
            actor=actor, participation=participation, published=True
        )


# --- The demo world, whole: valid, and the leak scan ------------------------------------------


@pytest.fixture
def demo_world(settings):
    call_command("seed_demo", verbosity=0)


def test_the_demo_worlds_export_validates_and_leaks_nothing_R11(tmp_path, demo_world, settings, k3):
    path = tmp_path / "demo.xml"
    counts = write_export(path)
    text = path.read_text(encoding="utf-8")
    root = etree.fromstring(path.read_bytes())
    # The demo world's countries are fictional (never named): everything is reduced.
    assert counts["reduced"] and counts["excluded"] and counts.smallest_anonymity_set >= 3
    assert len(root) == counts["full"] + counts["reduced"]

    # No partner that is not cleared, by name.
    for name in Partner.objects.filter(cleared_for_publication=False).values_list(
        "name", flat=True
    ):
        assert name not in text, name
    # No country of a post whose participation is not public.
    selected = Participation.objects.filter(selected=True)
    confidential_posts = selected.filter(published=False).values("post")
    confidential = set(
        Post.objects.filter(pk__in=confidential_posts).values_list("host_country", flat=True)
    ) | set(
        Post.countries_covered.through.objects.filter(post__in=confidential_posts).values_list(
            "country", flat=True
        )
    )
    named = {element.get("code") for element in root.iter("recipient-country")}
    assert not named & confidential
    for code in confidential:
        assert f'"{code}"' not in text
    # No activity that the attacker narrows to fewer than k participating posts.
    scan([path], min_posts=settings.IATI_REGION_MIN_POSTS)
    # No personal name: no user of the system appears.
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.exclude(first_name=""):
        assert f"{user.first_name} {user.last_name}" not in text


def test_every_code_written_is_in_the_vendored_codelists(tmp_path, demo_world):
    root, _counts = export(tmp_path)
    checks = {
        "activity-status": "ActivityStatus",
        "recipient-country": "Country",
        "recipient-region": "Region",
        "sector": "Sector",
        "transaction-type": "TransactionType",
    }
    sector_lists = {"1": "Sector", "2": "SectorCategory"}
    for tag, name in checks.items():
        for element in root.iter(tag):
            if tag == "sector":
                name = sector_lists[element.get("vocabulary")]
            assert element.get("code") in codelist(name), (tag, element.get("code"))
    for element in root.iter("participating-org"):
        assert element.get("role") in codelist("OrganisationRole")
        assert element.get("type") in codelist("OrganisationType")


# --- Money and results against an independent computation --------------------------------------


def test_budgets_and_transactions_add_up_to_the_inputs_R13(tmp_path, year, actor):
    next_year = FundYear.objects.create(
        year=2027, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2026, 11, 15)
    )
    post = participant(actor, year, "KE", published=True)
    make_participant(actor, next_year, post=post)
    make_plan(actor, post, next_year, priorities=(("women_girls", "500000.00"),))
    country_services.participation_publish(
        actor=actor,
        participation=Participation.objects.get(post=post, fund_year=next_year),
        published=True,
    )
    partner = PartnerFactory(post=post, cleared_for_publication=True)
    inputs = {
        "A": (
            {2026: "150000.00", 2027: "90000.00"},
            ["20000.00", "30000.00"],
            ProjectStatus.ACTIVE,
        ),
        "B": ({2026: "120000.00"}, [], ProjectStatus.PLANNED),
    }
    made = {}
    for title, (budget, payments, status) in inputs.items():
        made[title] = project(
            actor, post, partner, title=title, status=status,
            budget={y: Decimal(a) for y, a in budget.items()},
        )  # fmt: skip
        for amount in payments:
            services.disbursement_create(
                actor=actor, project=made[title], date=date(2026, 6, 1), amount=Decimal(amount)
            )
    grant_clearance(partner)

    root, _counts = export(tmp_path)

    for title, (budget, payments, status) in inputs.items():
        activity = activity_of(root, made[title])
        budgets = {
            int(b.find("period-start").get("iso-date")[:4]): Decimal(b.findtext("value"))
            for b in activity.iter("budget")
        }
        assert budgets == {y: Decimal(a) for y, a in budget.items()}
        by_type = {}
        for transaction in activity.iter("transaction"):
            kind = transaction.find("transaction-type").get("code")
            by_type.setdefault(kind, []).append(Decimal(transaction.findtext("value")))
        committed = status == ProjectStatus.ACTIVE
        assert by_type.get("2", []) == (
            [sum(Decimal(a) for a in budget.values())] if committed else []
        )
        assert sorted(by_type.get("3", [])) == sorted(Decimal(a) for a in payments)
        indicator = activity.find("result/indicator")
        assert indicator.find("baseline").get("value") == "10.00"
        assert indicator.find("period/actual").get("value") == "25.00"
        assert indicator.find("period/target").get("value") == "40.00"


def test_a_year_export_holds_only_projects_with_money_in_that_year(tmp_path, year, actor):
    post = participant(actor, year, "KE")
    partner = PartnerFactory(post=post)
    item = project(actor, post, partner)
    root, _counts = export(tmp_path, year=2026)
    assert activity_of(root, item) is not None
    with pytest.raises(NothingToPublish):  # IATI knows no empty activity file
        export(tmp_path, year=2027)
    assert not (tmp_path / "iati.xml.partial").exists()


# --- Valid by construction, constant queries ---------------------------------------------------


def test_an_invalid_file_is_never_written(tmp_path, year, actor, monkeypatch):
    post = participant(actor, year, "KE")
    project(actor, post, PartnerFactory(post=post))
    original = _Context.activity

    def broken(self, *args):
        element = original(self, *args)
        element.remove(element.find("title"))  # the schema requires a title
        return element

    monkeypatch.setattr(_Context, "activity", broken)
    destination = tmp_path / "out.xml"
    with pytest.raises(InvalidExport, match="title"):
        write_export(destination)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a partial one


def test_the_schema_check_in_batches_finds_a_fault_in_any_batch_and_at_the_root(
    tmp_path, year, actor, monkeypatch
):
    """validate() checks the activities a batch at a time (memory flat in the file): a
    fault in the last batch, a root attribute the schema refuses, and anything but
    activities under the root are each found."""
    from reports.iati import export as export_module

    post = participant(actor, year, "KE")
    partner = PartnerFactory(post=post)
    for number in range(5):
        project(actor, post, partner, title=f"Project {number}")
    path = tmp_path / "iati.xml"
    write_export(path)
    monkeypatch.setattr(export_module, "VALIDATION_BATCH", 2)
    export_module.validate(path)  # three batches, all valid
    tree = etree.parse(str(path))
    activities = tree.getroot().findall("iati-activity")
    assert len(activities) == 5

    def refused(change, match):
        copy_of = etree.parse(str(path))
        change(copy_of.getroot())
        broken = tmp_path / "broken.xml"
        copy_of.write(str(broken), xml_declaration=True, encoding="utf-8")
        with pytest.raises(InvalidExport, match=match):
            export_module.validate(broken)

    last = activities[-1].findtext("iati-identifier")
    refused(lambda root: root[-1].remove(root[-1].find("title")), "title")
    refused(lambda root: root[-1].remove(root[-1].find("title")), last)  # named by its batch
    refused(lambda root: root.set("unknown", "1"), "unknown")
    refused(lambda root: root.append(etree.Element("note")), "a 'note' under the root")
    refused(lambda root: root.insert(2, etree.Element("note")), "a 'note' under the root")

    def text_first(root):
        root.text = "loose text"

    refused(text_first, "text under the root")
    refused(lambda root: root[1].append(etree.Element("iati-activity")), "not a child")

    def written(text: bytes) -> Path:
        other = tmp_path / "other.xml"
        other.write_bytes(text)
        return other

    activity = etree.tostring(activities[0])
    for text in (
        b"<foo/>",  # no IATI root at all
        b'<foo version="2.03">' + activity * 3 + b"</foo>",  # another root
        b"<foo><iati-activities version='2.03'>" + activity + b"</iati-activities></foo>",
        b'<iati-activities xmlns="urn:x" version="2.03"><iati-activity/></iati-activities>',
        path.read_bytes()[:-40],  # cut off
    ):
        with pytest.raises(InvalidExport):
            export_module.validate(written(text))
    # A comment under the root is no fault (nor one for the schema).
    with_comment = etree.parse(str(path))
    with_comment.getroot().insert(1, etree.Comment("a note"))
    with_comment.write(str(tmp_path / "comment.xml"), xml_declaration=True, encoding="utf-8")
    export_module.validate(tmp_path / "comment.xml")


def test_regions_filled_for_activities_named_before_take_a_query_per_region(year, actor):
    """An activity named in full before and reduced now gets its region kept (R11); the
    regions are written a query per region and chunk, not per activity, and a region kept
    already is never overwritten."""
    from reports.iati.export import Spool, _keep_activities
    from reports.models import IatiKeptActivity

    post = participant(actor, year, "KE")
    partner = PartnerFactory(post=post)
    made = [project(actor, post, partner, title=f"P{number}") for number in range(5)]
    for item in made:
        IatiKeptActivity.objects.create(project=item, start=date(2026, 1, 1), region="", named=True)
    IatiKeptActivity.objects.filter(project=made[4]).update(region="298")
    filled = Spool()
    for item, region in zip(made, ["298", "289", "298", "289", "89"], strict=True):
        filled.append((item.pk, region))
    with CaptureQueriesContext(connection) as queries:
        _keep_activities(Spool(), filled)
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 3  # 298, 289, 89
    regions = dict(IatiKeptActivity.objects.values_list("project_id", "region"))
    assert [regions[item.pk] for item in made] == ["298", "289", "298", "289", "298"]


def test_the_activities_put_aside_for_keeping_come_back_as_they_went():
    from reports.iati.export import Spool

    spool = Spool()
    rows = [
        (pk, date(2026, 1 + pk % 12, 1), "" if pk % 3 else "298", pk % 2 == 0) for pk in range(7)
    ]
    for row in rows:
        spool.append(row)
    assert len(spool) == 7
    assert [len(chunk) for chunk in spool.chunks(3)] == [3, 3, 1]
    assert [row for chunk in spool.chunks(3) for row in chunk] == rows  # read again, the same
    spool.close()
    assert list(Spool().chunks()) == []


def test_the_export_costs_the_same_queries_at_two_sizes(tmp_path, year, actor):
    post = participant(actor, year, "KE")
    partner = PartnerFactory(post=post)
    project(actor, post, partner)
    write_export(tmp_path / "first.xml")  # decides and keeps the year's cells and starts
    with CaptureQueriesContext(connection) as small:
        write_export(tmp_path / "a.xml")
    for index in range(4):
        project(actor, post, partner, title=f"More {index}")
    write_export(tmp_path / "second.xml")  # keeps the new activities' starts
    with CaptureQueriesContext(connection) as large:
        write_export(tmp_path / "b.xml")
    assert len(large) == len(small)


# --- Kept exports, command, task schedule, admin ------------------------------------------


def test_make_export_records_counts_and_keeps_the_last_ones(year, actor, settings):
    post = participant(actor, year, "KE")
    project(actor, post, PartnerFactory(post=post))
    settings.IATI_EXPORTS_KEPT = 2
    made = [make_export(actor=actor) for _ in range(3)]
    assert made[-1].reduced == 1 and made[-1].status == "done"
    assert Path(made[-1].file.path).exists()
    kept = list(IatiExport.objects.order_by("pk"))
    assert kept == made[1:]
    assert not Path(settings.MEDIA_ROOT, made[0].file.name).exists()
    assert prune() == 0


def test_only_fund_managers_export_R11(year):
    reviewer = UserFactory(username="beoordelaar-iati", is_staff=True)
    from django.contrib.auth.models import Group

    from fund import access

    access.ensure_roles()
    reviewer.groups.add(Group.objects.get(name="beoordelaar"))
    with pytest.raises(FundRuleError):
        make_export(actor=reviewer)
    assert not IatiExport.objects.exists()


def test_export_iati_command_writes_a_valid_file(tmp_path, year, actor, capsys):
    post = participant(actor, year, "KE")
    project(actor, post, PartnerFactory(post=post))
    out = tmp_path / "cli.xml"
    call_command("export_iati", "--year", "2026", "--out", str(out))
    printed = capsys.readouterr().out
    expected = "geldig IATI 2.03; 0 activiteiten volledig, 1 beperkt, 0 achtergehouden, 0 weg"
    assert expected in printed
    assert etree.parse(str(out)).getroot().get("version") == "2.03"
    call_command("export_iati")
    # --out copies a kept export: the attacker check reads every file published.
    assert [e.reduced for e in IatiExport.objects.order_by("pk")] == [1, 1]


def test_the_monthly_export_is_scheduled():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="Maandelijkse IATI-publicatie")
    assert task.task == "reports.tasks.publish_monthly_iati" and task.crontab.day_of_month == "2"


def test_the_admin_lists_and_serves_exports_to_fund_managers_only(client, year, actor):
    from django.contrib.auth.models import Group

    from fund import access

    post = participant(actor, year, "KE")
    project(actor, post, PartnerFactory(post=post))
    made = make_export(actor=actor)
    access.ensure_roles()
    manager = UserFactory(username="fb-iati", is_staff=True)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    reviewer = UserFactory(username="bo-iati", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="beoordelaar"))
    url = reverse("admin:reports_iatiexport_download", args=[made.pk])

    client.force_login(manager)
    listing = client.get(reverse("admin:reports_iatiexport_changelist"))
    assert listing.status_code == 200
    assert "Nieuwe IATI-export maken" in listing.content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert b"<iati-activities" in b"".join(response.streaming_content)

    client.force_login(reviewer)
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:reports_iatiexport_changelist")).status_code == 403


def test_the_fund_manager_makes_a_participation_public_in_the_admin_R11(client, year, actor):
    from django.contrib.auth.models import Group

    from fund import access

    post = make_participant(actor, year, allocation=None)
    participation = Participation.objects.get(post=post, fund_year=year)
    access.ensure_roles()
    manager = UserFactory(username="fb-pub", is_staff=True)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    client.force_login(manager)
    url = reverse("admin:countries_participation_change", args=[participation.pk])
    form = {
        "selected": "on",
        "published": "on",
        "decision_note": "",
        "assessments-TOTAL_FORMS": "0",
        "assessments-INITIAL_FORMS": "0",
        "assessments-MIN_NUM_FORMS": "0",
        "assessments-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    participation.refresh_from_db()
    assert participation.published is True
    assert Action.PUBLISH.value == "publish"


def test_real_countries_carry_their_dac_region():
    assert Country.objects.get(code="KE").dac_region == "1027"
    assert Country.objects.get(code="NL").dac_region == ""  # not an aid recipient
    assert Country.objects.get(code="CO").dac_region == "489"


def test_post_factory_posts_are_unknown_to_the_export_until_they_participate(tmp_path, year):
    PostFactory(host_country=country("KE"))
    with pytest.raises(NothingToPublish):
        export(tmp_path)


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_postgresql_the_export_reads_one_snapshot_outside_any_transaction(tmp_path):
    """The command and the task run outside a transaction: the export opens its own, at
    REPEATABLE READ, so every cursor sees the same moment."""
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    actor = system_actor("seed")
    post = participant(actor, year, "KE")
    project(actor, post, PartnerFactory(post=post))
    from reports.iati import export as module

    seen = []
    original = module._write

    def spy(output, *, year):
        with connection.cursor() as cursor:
            cursor.execute("SHOW transaction_isolation")
            seen.append(cursor.fetchone()[0])
        return original(output, year=year)

    assert not connection.in_atomic_block
    module._write = spy
    try:
        root, counts = export(tmp_path)
    finally:
        module._write = original
    assert seen == ["repeatable read"]
    assert counts["reduced"] == 1 and len(root) == 1


# --- The leak scan on a world of real countries, both export scopes ---------------------------


def scan(paths, *, min_posts: int) -> None:
    """Everything R11 forbids, checked from the database and the files alone: no uncleared
    partner's name, and the independent attacker finds no activity under k."""
    from reports.iati.attacker import check_files
    from reports.iati.facts import public_facts

    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        for name in Partner.objects.filter(cleared_for_publication=False).values_list(
            "name", flat=True
        ):
            assert name not in text, name
    verdict = check_files(paths, public_facts(), k=min_posts)
    assert not verdict.failures, verdict.failures


def test_the_leak_scan_holds_on_a_world_of_real_countries_in_both_scopes_R11(
    tmp_path, year, actor, settings, k3
):
    next_year = FundYear.objects.create(
        year=2027, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2026, 11, 15)
    )
    # One post in Kenya that also covers Uganda and Tanzania: alone in Eastern Africa, it
    # must not make 1027 count three (k counts posts, not countries).
    wide = participant(actor, year, "KE")
    wide.countries_covered.add(country("UG"), country("TZ"))
    # Three posts in Western Africa in 2026; in 2027 only one of them takes part.
    west = [participant(actor, year, code, published=True) for code in ("NG", "GH", "SN")]
    make_participant(actor, next_year, post=west[0])
    make_plan(actor, west[0], next_year, priorities=(("women_girls", "500000.00"),))
    # Public in 2026 only: a project running into 2027 is not public in every year.
    cleared_ng = PartnerFactory(post=west[0], name="Naija Open", cleared_for_publication=True,
                                country=country("NG"))  # fmt: skip
    this_year_only = project(actor, west[0], cleared_ng, title="Alleen 2026")
    into_next_year = project(
        actor, west[0], cleared_ng, title="Tot in 2027",
        budget={2026: Decimal("100000.00"), 2027: Decimal("100000.00")},
    )  # fmt: skip
    hidden = PartnerFactory(post=wide, name="Verborgen Kenia", country=country("UG"))
    in_east = project(actor, wide, hidden, title="Oost")
    cancelled = project(actor, west[1], PartnerFactory(post=west[1], name="Ghana Stil"),
                        title="Geannuleerd", status=ProjectStatus.PLANNED)  # fmt: skip
    services.project_update(actor=actor, project=cancelled, status=ProjectStatus.CANCELLED)
    grant_clearance(cleared_ng)

    everything, _counts = export(tmp_path)
    (tmp_path / "iati.xml").rename(tmp_path / "all.xml")
    one_year, _counts = export(tmp_path, year=2026)
    scan([tmp_path / "all.xml", tmp_path / "iati.xml"], min_posts=settings.IATI_REGION_MIN_POSTS)

    assert activity_of(everything, this_year_only).find("recipient-country").get("code") == "NG"
    # Public in 2026, confidential (not selected, so not public) in 2027: reduced.
    # Its 2027 money shows its post takes part in 2027, where it is the only post: held back.
    assert not everything.xpath(f"//iati-identifier[contains(., '{into_next_year.public_id}')]")
    # 2026's cells: Western Africa's three posts would make 1030, but the Kenyan post would
    # then stand alone above it, so 1030 is taken back: all four are published under 998.
    assert activity_of(everything, in_east).find("recipient-region").get("code") == "998"
    assert activity_of(everything, cancelled).find("activity-status").get("code") == "5"
    # Both scopes give every activity the same form.
    for item in (this_year_only, in_east, cancelled):
        assert etree.tostring(activity_of(everything, item)) == etree.tostring(
            activity_of(one_year, item)
        )


def test_budget_periods_stay_within_the_project_and_future_payments_wait(tmp_path, year, actor):
    post = participant(actor, year, "KE")
    item = services.project_create(
        actor=actor, post=post, partner=PartnerFactory(post=post), priority=priority("women_girls"),
        title="Halfjaar", start_date=date(2026, 7, 1), end_date=date(2026, 12, 31),
        status=ProjectStatus.ACTIVE, budget={2026: Decimal("150000.00")},
    )  # fmt: skip
    services.disbursement_create(actor=actor, project=item, date=date(2026, 7, 15), amount="10.00")
    services.disbursement_create(actor=actor, project=item, date=date(2026, 12, 20), amount="20.00")

    root, _counts = export(tmp_path)  # today is 2026-11-30 in the machine's clock or later

    activity = activity_of(root, item)
    assert activity.find("budget/period-start").get("iso-date") == "2026-07-01"
    dates = [t.find("transaction-date").get("iso-date") for t in activity.iter("transaction")
             if t.find("transaction-type").get("code") == "3"]  # fmt: skip
    from django.utils import timezone

    # Reduced: payments summed per quarter, dated its first day, once they are made.
    today = timezone.localdate().isoformat()
    made = [d for d in ("2026-07-15", "2026-12-20") if d <= today]
    assert dates == sorted({f"2026-{'07' if d < '2026-10' else '10'}-01" for d in made})
