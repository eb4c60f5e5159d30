"""R11: each channel through which a careful reader narrowed IATI activities down to one or
two posts, pinned. Each world is one in which the policy before this one published an
activity that the attacker (reports.iati.attacker, which reads only published files and
public facts) narrows below k; here it must find none, and the file shows the fix."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from countries import services as country_services
from countries.models import Participation
from fund.access import system_actor
from grants import services
from grants.models import FundYear, PartnerType, ProjectStatus
from priorities.models import IntendedResult
from reports.iati import policy
from reports.iati.attacker import check_files
from reports.iati.export import Disclosure
from reports.iati.facts import public_facts
from reports.iati.services import make_export
from reports.models import IatiExport, IatiRegionCell
from tests.factories import PartnerFactory, country
from tests.helpers import grant_clearance, make_participant, make_plan, priority

pytestmark = pytest.mark.django_db
K = 3


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IATI_REGION_MIN_POSTS = K
    settings.IATI_EXPORTS_KEPT = 100


@pytest.fixture
def year():
    return FundYear.objects.create(
        year=2026, envelope=Decimal("9000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )


@pytest.fixture
def actor():
    return system_actor("seed")


def participant(actor, year, code, *, theme="women_girls", published=False):
    post = make_participant(actor, year, host_country=country(code))
    make_plan(actor, post, year, priorities=((theme, "500000.00"),))
    if published:
        country_services.participation_publish(
            actor=actor,
            participation=Participation.objects.get(post=post, fund_year=year),
            published=True,
        )
    return post


def project(actor, post, *, theme="women_girls", partner=None, title="Project", **kw):
    partner = partner or PartnerFactory(post=post, country=post.host_country)
    result = IntendedResult.objects.filter(priority__code=theme).order_by("position")[0]
    values = {
        "start_date": date(2026, 2, 17),
        "end_date": date(2026, 11, 3),
        "status": ProjectStatus.ACTIVE,
        "budget": {2026: Decimal("48250.00")},
        **kw,
    }
    made = services.project_create(
        actor=actor, post=post, partner=partner, priority=priority(theme), title=title,
        description=f"{title}.", intended_results=[result], **values,
    )  # fmt: skip
    indicator = services.indicator_save(
        actor=actor, project=made, intended_result=result, name="Mensen bereikt", unit="mensen",
        baseline=Decimal("0"), target=Decimal("137"),
    )  # fmt: skip
    services.indicator_value_set(
        actor=actor, indicator=indicator, year=values["start_date"].year, value=Decimal("61")
    )
    return made


def post_editor(actor, post):
    """An embassy editor of the post (the API's role)."""
    from countries.services import membership_set
    from tests.factories import UserFactory

    user = UserFactory(username=f"editor-{post.pk}")
    membership_set(actor=actor, user=user, post=post, role="editor")
    return user


def published_files():
    return [e.file.path for e in IatiExport.objects.filter(status="done").order_by("pk")]


def attack():
    verdict = check_files(published_files(), public_facts(), k=K)
    assert not verdict.failures, verdict.failures
    return verdict


def activity(export, made):
    root = etree.parse(export.file.path).getroot()
    [found] = root.xpath(f"iati-activity[iati-identifier='XM-DAC-7-{made.public_id}']")
    return found


def region_of(export, made):
    return activity(export, made).find("recipient-region").get("code")


def test_a_region_stands_only_for_the_posts_not_published_narrower_R11(year, actor):
    """Three posts in Eastern Africa (1027), two in Western Africa (1030). Before: the
    Western posts' activities went to 289 'South of Sahara', which — 1027 being published on
    its own — stood for those two posts only."""
    east = [participant(actor, year, code) for code in ("KE", "UG", "TZ")]
    west = [participant(actor, year, code) for code in ("NG", "GH")]
    made = {post.pk: project(actor, post) for post in east + west}

    export = make_export(actor=actor)

    verdict = attack()
    assert verdict.smallest >= K and export.smallest_anonymity_set == verdict.smallest
    # The two Western posts cannot make a cell of three anywhere short of the top, so 1027 is
    # taken back into 998: nothing stands for fewer than five posts.
    assert {region_of(export, made[post.pk]) for post in east + west} == {"998"}


def test_a_post_that_joins_never_makes_an_earlier_file_more_precise_R11(year, actor):
    """Before: when a third post joined Eastern Africa, the next monthly file moved the
    activities from 998 to 1027; with the first file, a reader knew they came from the two
    posts that were there before."""
    kenya, uganda = participant(actor, year, "KE"), participant(actor, year, "UG")
    for code in ("NG", "GH", "SN"):
        project(actor, participant(actor, year, code))
    first_project = project(actor, kenya)
    project(actor, uganda)
    first = make_export(actor=actor)
    assert region_of(first, first_project) == "998"
    kept = set(IatiRegionCell.objects.values_list("year", "post_id", "region"))

    project(actor, participant(actor, year, "TZ"))  # Eastern Africa now has three posts
    second = make_export(actor=actor)

    assert region_of(second, first_project) == "998"  # the kept cell, not 1027
    assert kept <= set(IatiRegionCell.objects.values_list("year", "post_id", "region"))
    attack()


def test_region_and_priority_are_no_quasi_identifier_R11(year, actor):
    """Posts announce their priorities: before, a reduced activity's sector and generic title
    (the priority) singled out the one post of its region with that priority."""
    themes = ("women_girls", "expression", "accountability")
    made = [
        project(actor, participant(actor, year, code, theme=theme), theme=theme)
        for code, theme in zip(("KE", "UG", "TZ"), themes, strict=True)
    ]
    export = make_export(actor=actor)
    for item in made:
        element = activity(export, item)
        [sector] = element.findall("sector")
        assert (sector.get("vocabulary"), sector.get("code")) == ("2", "151")
        assert element.find("result") is None  # intended results name the priority
        text = " ".join(element.itertext())
        for code in themes:
            name = priority(code)
            assert name.name_nl not in text and name.name_en not in text
    attack()


def test_reduced_activities_carry_no_exact_detail_and_no_database_order_R11(year, actor):
    """Before: exact amounts, dates, indicator values and a last-updated time to the second,
    written in database order next to the same post's full activities."""
    posts = [participant(actor, year, code) for code in ("KE", "UG", "TZ")]
    made = [project(actor, post, title=f"P{n}") for n, post in enumerate(posts * 2)]
    services.disbursement_create(
        actor=actor, project=made[0], date=date(2026, 2, 19), amount=Decimal("12345.67")
    )
    services.disbursement_create(
        actor=actor, project=made[0], date=date(2026, 3, 2), amount=Decimal("1000.00")
    )
    export = make_export(actor=actor)
    root = etree.parse(export.file.path).getroot()

    identifiers = [a.findtext("iati-identifier") for a in root]
    assert identifiers == sorted(identifiers)  # random ids: no database or post order
    assert len({a.get("last-updated-datetime") for a in root}) == 1
    for element in root:
        for value in element.iter("value"):
            assert Decimal(value.text) % policy.AMOUNT_STEP == 0, value.text
        for day in element.xpath(".//@iso-date"):
            month_day = day[5:]
            assert month_day in {"01-01", "04-01", "07-01", "10-01"} or month_day in {
                "03-31",
                "06-30",
                "09-30",
                "12-31",
            }, day
        assert not element.xpath(".//actual | .//target | .//baseline")
    first = activity(export, made[0])
    payments = [
        (t.find("transaction-date").get("iso-date"), t.findtext("value"))
        for t in first.iter("transaction")
        if t.find("transaction-type").get("code") == "3"
    ]
    assert payments == [("2026-01-01", "10000.00")]  # one quarter, summed, rounded
    attack()


def test_a_full_activity_naming_a_hidden_country_is_reduced_R11(year, actor):
    """Before: 'Kenya Journalists Network … in Kenia' was printed verbatim while the policy hid
    Kenya behind a region."""
    participant(actor, year, "KE")  # confidential: Kenya is hidden
    participant(actor, year, "UG")
    public = participant(actor, year, "TZ", published=True)
    cleared = PartnerFactory(post=public, name="Open Forum", cleared_for_publication=True,
                             country=country("TZ"))  # fmt: skip
    plain = project(actor, public, partner=cleared, title="Radio in Dodoma")
    naming = project(actor, public, partner=cleared, title="Samen met Keniaanse journalisten")
    capital = project(actor, public, partner=cleared, title="Workshops in Nairobi")
    grant_clearance(cleared)

    export = make_export(actor=actor)

    assert activity(export, plain).find("recipient-country").get("code") == "TZ"
    for item in (naming, capital):
        element = activity(export, item)
        assert element.find("recipient-country") is None
        assert "Kenia" not in " ".join(element.itertext())
        assert "Nairobi" not in " ".join(element.itertext())
    assert export.full == 1 and export.reduced == 2
    attack()


def test_a_cancelled_activity_carries_no_budget_R11(year, actor):
    posts = [participant(actor, year, code) for code in ("KE", "UG", "TZ")]
    cancelled = project(actor, posts[0], status=ProjectStatus.PLANNED)
    services.project_update(actor=actor, project=cancelled, status=ProjectStatus.CANCELLED)
    export = make_export(actor=actor)
    element = activity(export, cancelled)
    assert element.find("activity-status").get("code") == "5"
    assert element.find("budget") is None
    assert not [
        t for t in element.iter("transaction") if t.find("transaction-type").get("code") == "2"
    ]


def test_the_ministry_is_funding_accountable_and_extending_with_stable_ids(year, actor):
    posts = [participant(actor, year, code) for code in ("KE", "UG", "TZ")]
    made = project(actor, posts[0])
    first = make_export(actor=actor)
    second = make_export(actor=actor)
    element = activity(first, made)
    roles = sorted(
        org.get("role")
        for org in element.findall("participating-org")
        if org.get("ref") == "XM-DAC-7"
    )
    assert roles == ["1", "2", "3"] and element.get("hierarchy") == "1"
    assert activity(second, made).findtext("iati-identifier") == element.findtext("iati-identifier")


def test_a_file_the_attacker_narrows_below_k_is_refused_and_recorded_R11(
    year, actor, monkeypatch, settings
):
    """If the policy were wrong (here: every post its own cell), the export would not publish:
    the file is not moved into place, the record says why, and no cell is kept."""
    for code in ("KE", "UG", "TZ", "NG"):
        project(actor, participant(actor, year, code))
    monkeypatch.setattr(policy, "assign_cells", lambda homes, kept, k: dict(homes))
    monkeypatch.setattr(policy.Geography, "stands_for", lambda self, *a, **kw: 99)

    with pytest.raises(Disclosure):
        make_export(actor=actor)

    [record] = IatiExport.objects.all()
    assert record.status == "failed" and "minder dan 3 posten" in record.failure_reason
    assert not record.file and not IatiRegionCell.objects.exists()
    stored = Path(settings.MEDIA_ROOT) / "iati"
    assert not stored.exists() or not list(stored.iterdir())  # no file, no partial


def test_a_year_with_fewer_than_k_posts_is_held_back_until_it_has_them_R11(year, actor):
    lonely = project(actor, participant(actor, year, "KE"))
    public = participant(actor, year, "UG", published=True)
    cleared = PartnerFactory(post=public, cleared_for_publication=True, country=country("UG"),
                             partner_type=PartnerType.NHRI)  # fmt: skip
    project(actor, public, partner=cleared, title="Open")
    grant_clearance(cleared)
    first = make_export(actor=actor)
    assert (first.full, first.reduced, first.withheld) == (1, 0, 1)
    participant(actor, year, "TZ")
    second = make_export(actor=actor)
    assert second.withheld == 0 and region_of(second, lonely) == "1027"
    attack()


def second_year():
    return FundYear.objects.create(
        year=2027, envelope=Decimal("9000000.00"), plan_submission_deadline=date(2026, 11, 15)
    )


def test_moving_a_project_into_another_year_keeps_its_published_start_R11(year, actor):
    """A reduced activity keeps the start and region it was first published with: moving the
    project into another year must not place it in another year's cells (two files in two
    years' cells could narrow it down)."""
    next_year = second_year()
    posts = [participant(actor, year, code) for code in ("KE", "UG", "TZ")]
    for post in posts:  # all three take part in 2027 too: the activity runs into it
        make_participant(actor, next_year, post=post)
        make_plan(actor, post, next_year, priorities=(("women_girls", "500000.00"),))
    for post in posts[1:]:
        project(actor, post)
    moved = project(actor, posts[0], start_date=date(2026, 12, 1), end_date=date(2027, 11, 30),
                    budget={2026: Decimal("10000.00"), 2027: Decimal("40000.00")})  # fmt: skip
    first = make_export(actor=actor)
    start_of = "activity-date[@type='1']"
    assert activity(first, moved).find(start_of).get("iso-date") == "2026-10-01"
    type(moved).objects.filter(pk=moved.pk).update(start_date=date(2027, 1, 4))

    second = make_export(actor=actor)
    assert activity(second, moved).find(start_of).get("iso-date") == "2026-10-01"
    assert region_of(second, moved) == region_of(first, moved)
    attack()


def test_an_activity_running_into_a_year_of_fewer_posts_is_held_back_R11(year, actor):
    """Its budget years show that its post takes part in each (R6, R9): a 2026–2027 project
    in a region whose other posts do not take part in 2027 would stand for its post alone."""
    next_year = second_year()
    kenya = participant(actor, year, "KE")
    for code in ("UG", "TZ"):
        project(actor, participant(actor, year, code))
    make_participant(actor, next_year, post=kenya)
    make_plan(actor, kenya, next_year, priorities=(("women_girls", "500000.00"),))
    running_on = project(actor, kenya, end_date=date(2027, 6, 30),
                         budget={2026: Decimal("10000.00"), 2027: Decimal("40000.00")})  # fmt: skip
    export = make_export(actor=actor)
    assert export.withheld == 1 and export.reduced == 2
    assert (
        not etree.parse(export.file.path)
        .getroot()
        .xpath(f"iati-activity[iati-identifier='XM-DAC-7-{running_on.public_id}']")
    )
    attack()


def test_a_partner_abroad_a_coverage_change_and_a_withdrawn_publicity_refuse_nothing_R11(
    year, actor
):
    """Worlds the policy publishes safely and the attacker must not mistake for a leak."""
    public = participant(actor, year, "KE", published=True)
    others = [participant(actor, year, code) for code in ("UG", "TZ")]
    abroad = PartnerFactory(post=public, cleared_for_publication=True, country=country("SO"))
    in_somalia = project(actor, public, partner=abroad, title="Grensoverschrijdend")
    grant_clearance(abroad)
    reduced = [project(actor, post) for post in others]
    first = make_export(actor=actor)
    assert activity(first, in_somalia).find("recipient-country").get("code") == "SO"
    attack()

    # A post covers one more country, in another region, after its cell was kept.
    others[0].countries_covered.add(country("NG"))
    make_export(actor=actor)
    attack()

    # The ministry makes the participation confidential again: what was published stays
    # known, later files keep it reduced, and nothing is refused.
    country_services.participation_publish(
        actor=actor,
        participation=Participation.objects.get(post=public, fund_year=year),
        published=False,
    )
    third = make_export(actor=actor)
    # Named once, it would point at its post in any form: held back while confidential.
    assert (
        not etree.parse(third.file.path)
        .getroot()
        .xpath(f"iati-activity[iati-identifier='XM-DAC-7-{in_somalia.public_id}']")
    )
    assert third.withheld == 1
    assert all(activity(third, item).find("recipient-region") is not None for item in reduced)
    attack()


def test_texts_changed_after_the_clearance_are_not_published_until_cleared_again_R11(year, actor):
    public = participant(actor, year, "KE", published=True)
    for code in ("UG", "TZ"):
        participant(actor, year, code)
    partner = PartnerFactory(post=public, country=country("KE"))
    item = project(actor, public, partner=partner, title="Radio")
    grant_clearance(partner)
    assert make_export(actor=actor).full == 1

    services.project_update(actor=actor, project=item, title="Radio met Jean Uwimana")
    later = project(actor, public, partner=partner, title="Nieuw project")
    export = make_export(actor=actor)
    assert (export.full, export.reduced) == (0, 2)
    assert "Uwimana" not in Path(export.file.path).read_text(encoding="utf-8")

    grant_clearance(partner)  # the fund manager read the new texts
    assert make_export(actor=actor).full == 2
    assert later.pk


def test_a_project_moved_to_a_cleared_partner_is_not_cleared_by_it_R11(year, actor):
    """The clearance saw the texts under the partner it cleared: an older project moved to it
    (its title naming someone) is reduced, and a highly sensitive one stays left out."""
    public = participant(actor, year, "KE", published=True)
    for code in ("UG", "TZ"):
        participant(actor, year, code)
    cleared = PartnerFactory(post=public, country=country("KE"))
    grant_clearance(cleared)
    naming = project(actor, public, title="Met Jean Uwimana")
    endangered = PartnerFactory(post=public, country=country("KE"), sensitivity="high")
    also_high = PartnerFactory(post=public, country=country("KE"), sensitivity="high")
    grant_clearance(also_high)
    hidden = project(actor, public, partner=endangered, title="Schuiladres")
    editor = post_editor(actor, public)
    services.project_update(actor=editor, project=naming, partner=cleared)
    services.project_update(actor=editor, project=hidden, partner=also_high)

    export = make_export(actor=actor)
    text = Path(export.file.path).read_text(encoding="utf-8")
    assert "Uwimana" not in text and "Schuiladres" not in text
    assert export.full == 0 and export.excluded == 1


def test_a_project_moved_out_of_a_confidential_year_does_not_name_its_country_R11(year, actor):
    """Published reduced while its 2026 participation was confidential, then moved into 2027,
    which is public: naming it now would show, with the first file, that the post took part in
    2026."""
    next_year = second_year()
    kenya = participant(actor, year, "KE")
    for code in ("UG", "TZ"):
        other = participant(actor, year, code)
        project(actor, other)
        make_participant(actor, next_year, post=other)
    make_participant(actor, next_year, post=kenya)
    make_plan(actor, kenya, next_year, priorities=(("women_girls", "500000.00"),))
    country_services.participation_publish(
        actor=actor,
        participation=Participation.objects.get(post=kenya, fund_year=next_year),
        published=True,
    )
    cleared = PartnerFactory(post=kenya, country=country("KE"))
    item = project(actor, kenya, partner=cleared, start_date=date(2026, 12, 1),
                   end_date=date(2027, 11, 30),
                   budget={2026: Decimal("10000.00"), 2027: Decimal("40000.00")})  # fmt: skip
    grant_clearance(cleared)
    first = make_export(actor=actor)
    assert activity(first, item).find("recipient-country") is None
    type(item).objects.filter(pk=item.pk).update(start_date=date(2027, 1, 15))

    second = make_export(actor=actor)
    assert activity(second, item).find("recipient-country") is None
    attack()


def test_less_coverage_a_partner_elsewhere_and_a_public_country_named_refuse_nothing_R11(
    year, actor
):
    """Worlds that must not block every later export: a post covers fewer countries after its
    cell was kept; a partner moves to a country without a DAC region; a cleared text names
    another country whose post is public."""
    wide = participant(actor, year, "KE")
    wide.countries_covered.add(country("GH"))
    for code in ("GH", "SN"):
        participant(actor, year, code)
    moved_partner = PartnerFactory(post=wide, country=country("KE"))
    project(actor, wide, partner=moved_partner)
    uganda = participant(actor, year, "UG", published=True)
    kenya_public = participant(actor, year, "TZ", published=True)
    cleared = PartnerFactory(post=kenya_public, country=country("TZ"))
    naming = project(actor, kenya_public, partner=cleared, title="Met Oegandese journalisten")
    grant_clearance(cleared)
    assert uganda.pk
    make_export(actor=actor)
    attack()

    wide.countries_covered.remove(country("GH"))
    moved_partner.country = country("NL")
    moved_partner.save()
    later = make_export(actor=actor)
    assert activity(later, naming).find("recipient-country").get("code") == "TZ"
    attack()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_exports_at_once_publish_files_that_agree_R11(tmp_path, settings, monkeypatch):
    """The monthly task is writing its file when a project moves to another quarter and a
    fund manager presses the admin's button. The second export waits for the first (an
    advisory lock), then reads the start the first one kept: both files agree, and neither
    export fails. Without the lock the second would keep the new start first and the first
    would be refused."""
    import threading
    import time as clock

    from django.db import connection, connections

    from reports.iati import export as module

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: real concurrent transactions")
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("9000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    actor = system_actor("seed")
    made = [project(actor, participant(actor, year, code)) for code in ("KE", "UG", "TZ")]
    written, go = threading.Event(), threading.Event()
    original = module._write

    def first_pauses_after_writing(output, *, year):
        result = original(output, year=year)
        if threading.current_thread().name == "monthly":
            written.set()
            go.wait(timeout=60)
        return result

    monkeypatch.setattr(module, "_write", first_pauses_after_writing)
    errors = []

    def run():
        try:
            make_export(actor=system_actor("tasks"))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    monthly = threading.Thread(target=run, name="monthly")
    monthly.start()
    assert written.wait(timeout=60)
    type(made[0]).objects.filter(pk=made[0].pk).update(start_date=date(2026, 8, 3))
    button = threading.Thread(target=run, name="button")
    button.start()
    clock.sleep(1)  # the button's export now waits for the lock (or, without it, runs)
    go.set()
    for thread in (monthly, button):
        thread.join(timeout=120)
    assert not errors, errors
    files = published_files()
    assert len(files) == 2
    starts = {activity(e, made[0]).find("activity-date[@type='1']").get("iso-date")
              for e in IatiExport.objects.filter(status="done")}  # fmt: skip
    assert starts == {"2026-01-01"}  # as first published, in both files
    attack()


# --- Worlds of the third review: ordinary changes after an activity was published in full ----


def published_in_full(actor, year, *, partner_country="KE", more=("UG", "TZ")):
    """A public Kenyan post with a cleared project published in full, and the other posts."""
    kenya = participant(actor, year, "KE", published=True)
    others = [participant(actor, year, code) for code in more]
    for post in others:
        project(actor, post)
    partner = PartnerFactory(post=kenya, country=country(partner_country))
    item = project(actor, kenya, partner=partner, title="Radio")
    grant_clearance(partner)
    first = make_export(actor=actor)
    assert first.full == 1
    return kenya, others, partner, item


def must_publish(actor):
    export = make_export(actor=actor)  # would raise Disclosure on a refusal
    attack()
    return export


def test_after_a_full_publication_ordinary_changes_refuse_nothing_R11(year, actor):
    """A partner abroad whose project text is edited, a partner that moves country, a post
    newly accredited to the country of a public post's activity: each of these once blocked
    every later export."""
    _kenya, others, partner, item = published_in_full(actor, year, partner_country="NG")
    services.project_update(actor=actor, project=item, title="Radio Lagos")
    assert region_of(must_publish(actor), item) == "998"  # its partner works abroad

    partner.country = country("KE")
    partner.save()
    must_publish(actor)
    country_services.post_save(actor=actor, post=others[0], countries_covered=[country("KE")])
    must_publish(actor)


def test_a_named_activity_moved_or_extended_into_a_confidential_year_is_held_back_R11(year, actor):
    """Published in full in 2026 (public), then extended into 2027, where the post is
    confidential: any later form, linked to the named one by its identifier, would show the
    post in 2027."""
    next_year = second_year()
    kenya, others, _partner, item = published_in_full(actor, year)
    for post in (kenya, *others):
        make_participant(actor, next_year, post=post)
        make_plan(actor, post, next_year, priorities=(("women_girls", "500000.00"),))
    longer = {2026: Decimal("48250.00"), 2027: Decimal("20000.00")}
    services.project_update(actor=actor, project=item, end_date=date(2027, 6, 30), budget=longer)
    export = must_publish(actor)
    assert export.withheld == 1 and export.full == 0
