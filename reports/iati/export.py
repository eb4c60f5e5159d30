"""The IATI 2.03 activity file of the fund's projects, under the sensitivity policy (R11).

Written as a stream: every related table is read once, ordered by project, in a constant
number of queries (server-side cursors on PostgreSQL), and each activity is built, written
and dropped in turn, so memory does not grow with the number of projects. The file is written
next to its destination, validated against the vendored official schema (lxml, also as a
stream) and only then moved into place: an invalid file is never written or served.

Why one module of ~850 lines: one export, read top to bottom in the order it runs (read the
tables, place each activity under the policy, reduce, write, validate, record). What it
decides with (policy.py), the public facts an attacker holds (facts.py) and the attacker
itself (attacker.py) are apart.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from countries.models import Country, Participation, Post
from fund.codelists import SCHEMA, code
from fund.text import printable
from grants.models import (
    COMMITTED_PROJECT_STATUSES,
    BudgetLine,
    Disbursement,
    Indicator,
    IndicatorValue,
    PartnerType,
    Project,
    ProjectStatus,
)
from priorities.models import IntendedResult, Priority

from . import policy
from .policy import Outcome

log = logging.getLogger(__name__)
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CHUNK = 2000


class Spool:
    """Rows put aside on disk while the file is written, read back in chunks once it is
    approved: a first export of 1 000 000 projects puts aside a row per activity (about
    100 MB in a list), and the export's memory is to stay flat in the number of projects."""

    def __init__(self):
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self._count = 0

    def append(self, row: tuple) -> None:
        pickle.dump(row, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def chunks(self, size: int = CHUNK) -> Iterator[list[tuple]]:
        self._file.seek(0)
        left = self._count
        while left:
            # Unpickled from the file this export wrote itself, nothing from outside.
            chunk = [pickle.load(self._file) for _ in range(min(size, left))]
            left -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._file.close()


# DAC 5-digit purpose codes per priority; explained in docs/iati.md.
SECTOR_BY_PRIORITY = {
    "women_girls": "15170",  # Women's rights organisations and movements, and government inst.
    "lgbtiq": "15160",  # Human rights
    "religion_belief": "15160",  # Human rights
    "expression": "15153",  # Media and free flow of information
    "defenders_civic_space": "15150",  # Democratic participation and civil society
    "accountability": "15130",  # Legal and judicial development
}
DEFAULT_SECTOR = "15160"  # Human rights: a priority added later, until it is mapped

# IATI OrganisationType per partner type (R8), the only trace of an anonymised partner.
ORGANISATION_TYPE = {
    PartnerType.LOCAL_CSO: "22",  # National NGO
    PartnerType.NHRI: "15",  # Other Public Sector
    PartnerType.STATE_INSTITUTION: "10",  # Government
    PartnerType.INTERNATIONAL_NGO: "21",  # International NGO
    PartnerType.MULTILATERAL: "40",  # Multilateral
}
ACTIVITY_STATUS = {
    ProjectStatus.PLANNED: "1",  # Pipeline/identification
    ProjectStatus.ACTIVE: "2",  # Implementation
    ProjectStatus.COMPLETED: "4",  # Closed
    ProjectStatus.CANCELLED: "5",  # Cancelled
}
MINISTRY = {
    "nl": "Ministerie van Buitenlandse Zaken",
    "en": "Ministry of Foreign Affairs of the Netherlands",
}
REDUCED_TITLE = {
    "nl": "Mensenrechtenfonds: mensenrechtenproject",
    "en": "Human Rights Fund: human rights project",
}
REDUCED_DESCRIPTION = {
    "nl": (
        "Een mensenrechtenproject, gefinancierd uit het decentrale Mensenrechtenfonds van het "
        "Nederlandse ministerie van Buitenlandse Zaken. Om de betrokkenen te beschermen worden "
        "de uitvoerende organisatie, het land, het thema en de resultaten niet gepubliceerd; "
        "bedragen zijn afgerond op EUR 10.000 en data op het kwartaal."
    ),
    "en": (
        "A human rights project funded by the decentral Human Rights Fund of the Netherlands "
        "Ministry of Foreign Affairs. To protect the people involved, the implementing "
        "organisation, the country, the theme and the results are not published; amounts are "
        "rounded to EUR 10,000 and dates to the quarter."
    ),
}
ANONYMOUS_PARTNER = {
    "nl": "Uitvoerende organisatie niet gepubliceerd",
    "en": "Implementing organisation not published",
}


class InvalidExport(Exception):
    """The file does not validate against the IATI 2.03 schema; it was not written."""


class NothingToPublish(InvalidExport):
    """No project may be published (or there is none): IATI has no empty activity file."""


class Disclosure(InvalidExport):
    """The attacker, reading this file with every earlier one, finds an activity of a
    confidential participation that stands for fewer than k posts (R11): not published."""


class Counts(Counter):
    """How many projects each policy outcome got, and what the attacker found."""

    smallest_anonymity_set: int | None = None


def counts_template() -> Counts:
    return Counts(dict.fromkeys(Outcome.values, 0))


def write_export(destination: Path, *, year: int | None = None, place=None) -> Counts:
    """Write the validated IATI file of all projects (or those with money in `year`) to
    `destination`; return how many projects each policy outcome got. `place(partial)` puts
    the checked file where it is kept (default: moved to `destination`); it runs in the
    transaction that keeps the disclosure state, so a file that could not be stored leaves
    no state behind that claims it was published.

    Before the file is moved into place the independent attacker (reports.iati.attacker)
    reads it with every earlier file kept and the public facts; a file in which an activity
    of a confidential participation stands for fewer than k posts is refused (Disclosure).
    Only then are the cells this file decided kept for the next exports."""
    with one_export_at_a_time():
        return _write_export(destination, year=year, place=place)


def _write_export(destination: Path, *, year: int | None, place) -> Counts:
    from .attacker import check_files
    from .facts import earlier_files, public_facts

    destination = Path(destination)
    partial = destination.with_name(destination.name + ".partial")
    context = None
    try:
        with _one_snapshot(), open(partial, "wb") as output:
            counts, context = _write(output, year=year)
        if not counts[Outcome.FULL] + counts[Outcome.REDUCED]:
            raise NothingToPublish(
                f"no project to publish ({counts[Outcome.EXCLUDED]} left out, "
                f"{counts[Outcome.WITHHELD]} held back under R11)"
            )
        validate(partial)
        with earlier_files() as earlier:
            verdict = check_files(
                [*earlier, partial], public_facts(), k=settings.IATI_REGION_MIN_POSTS
            )
        counts.smallest_anonymity_set = verdict.smallest
        if verdict.failures:
            raise Disclosure(
                _(
                    "Not published (R11): %(count)s activities would stand for fewer than "
                    "%(k)s posts for a reader of every published file (smallest: %(smallest)s "
                    "posts; first: %(first)s). Nothing of this export is kept."
                )
                % {
                    "count": len(verdict.failures),
                    "k": settings.IATI_REGION_MIN_POSTS,
                    "smallest": verdict.smallest,
                    "first": verdict.failures[0],
                }
            )
        with transaction.atomic():  # all kept, or none: a refused file leaves nothing behind
            _keep_cells(context.geography.new_cells(context.years_placed))
            _keep_activities(context.new_activities, context.regions_filled)
            if place is None:
                os.replace(partial, destination)
            else:
                place(partial)
    finally:
        partial.unlink(missing_ok=True)
        if context is not None:
            context.close()
    return counts


# PostgreSQL advisory lock key of the IATI export ("IATI" in ASCII): one export at a time, so
# that the cells and starts a file is written with are the ones kept.
_EXPORT_LOCK = 0x49415449
_HELD = "_iati_export_lock_held"  # on the (per-thread) connection: it holds the session lock


@contextmanager
def one_export_at_a_time():
    """Wait for any other export (the monthly task, the admin's button, the command) to finish
    — its file placed and its record done — before reading: its kept cells and starts, and its
    file, are then part of what this export reads. A session lock on PostgreSQL, taken once
    per connection however deeply nested (make_export holds it around write_export); SQLite
    (the quick start, one process) needs none."""
    take = connection.vendor == "postgresql" and not getattr(connection, _HELD, False)
    if take:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_EXPORT_LOCK])
        setattr(connection, _HELD, True)
    try:
        yield
    finally:
        if take:
            setattr(connection, _HELD, False)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_EXPORT_LOCK])


def _keep_activities(kept: Spool, filled: Spool) -> None:
    """Store the start and region each newly published activity was published with (and
    whether it was named in full), R11; a region for an activity named before and reduced
    now. If a concurrent writer stored others first, this file is not published."""
    from ..models import IatiKeptActivity

    for chunk in kept.chunks():
        IatiKeptActivity.objects.bulk_create(
            [
                IatiKeptActivity(project_id=pk, start=start, region=region, named=named)
                for pk, start, region, named in chunk
            ],
            ignore_conflicts=True,
        )
        stored = set(
            IatiKeptActivity.objects.filter(project_id__in=[row[0] for row in chunk]).values_list(
                "project_id", "start", "region", "named"
            )
        )
        if stored != set(chunk):
            raise InvalidExport("a concurrent export kept other starts; make the export again")
    for chunk in filled.chunks():
        by_region: dict[str, list[int]] = {}
        for pk, region in chunk:
            by_region.setdefault(region, []).append(pk)
        for region, pks in by_region.items():  # a query per region, not per activity
            IatiKeptActivity.objects.filter(project_id__in=pks, region="").update(region=region)


def _keep_cells(cells: list[tuple[int, int, str]]) -> None:
    """Store the cells this file published under; if a concurrent export stored others for
    the same post and year first, this file is not published (it would contradict it)."""
    from ..models import IatiRegionCell

    if not cells:
        return
    IatiRegionCell.objects.bulk_create(
        [IatiRegionCell(year=y, post_id=post, region=region) for y, post, region in cells],
        ignore_conflicts=True,
    )
    stored = {
        (row.year, row.post_id): row.region
        for row in IatiRegionCell.objects.filter(
            year__in={y for y, _post, _region in cells},
            post_id__in={post for _y, post, _region in cells},
        )
    }
    if any(stored.get((y, post)) != region for y, post, region in cells):
        raise InvalidExport("a concurrent export decided other regions; make the export again")


@contextmanager
def _one_snapshot():
    """On PostgreSQL, one REPEATABLE READ, read-only transaction for all the cursors: a
    project and its budget lines are read as they were at the same moment, however long the
    export takes. Inside a caller's transaction (tests), that transaction's reads are used.
    SQLite (the quick start) needs none: a transaction there would take the write lock
    (transaction_mode IMMEDIATE) and hold off every writer for the whole export."""
    if connection.vendor != "postgresql":
        yield
        return
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            log.info("IATI export inside a transaction: using its isolation level")
        yield


VALIDATION_BATCH = 100


def validate(path: Path) -> None:
    """Validate a file against the official IATI 2.03 activity schema, as a stream.

    The activities are validated in batches, each a document of its own under a root with
    the file's root attributes: the schema relates no activity to another (no key, unique or
    ID), so the batches accept what validating the whole file would — but stricter in one
    respect: under the root may stand only activities (and comments), which is all the
    export writes; the schema would also let elements of other namespaces stand there. Why
    batches: libxml2 validating the whole stream kept growing, 67 MB over the 2 GB file of
    1 000 000 projects; a batch's memory goes with it (docs/performance.md)."""
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    root = None
    batch: list = []
    checked = False

    def refuse(what: str) -> None:
        raise InvalidExport(f"Not an IATI activity file as the export writes it: {what}.")

    def check(activities: list) -> None:
        nonlocal checked
        checked = True
        document = etree.Element(root.tag, dict(root.attrib), nsmap=root.nsmap)
        document.extend(activities)  # moved out of the file's tree, into their own document
        if not schema.validate(document):
            error = schema.error_log.last_error
            found = activities[0].findtext("iati-identifier") if activities else None
            raise InvalidExport(f"{error.message} (in the batch from activity {found})")

    try:
        for event, element in etree.iterparse(
            str(path), events=("start", "end"), tag=("iati-activities", "iati-activity"),
            huge_tree=True,
        ):  # fmt: skip
            if element.tag == "iati-activities":
                if event == "start":
                    if root is not None or element.getparent() is not None:
                        refuse("iati-activities inside another element")
                    root = element
                    continue
                if (root.text or "").strip():
                    refuse("text under the root")
                if batch or not checked:  # the last batch; a root without any, alone
                    check(batch)
                left = [child for child in root if isinstance(child.tag, str)]
                if left:  # anything but comments, once the activities are gone
                    refuse(f"a {left[0].tag!r} under the root")
                continue
            if event != "end":
                continue
            if root is None or element.getparent() is not root:
                refuse("an iati-activity that is not a child of the root iati-activities")
            batch.append(element)
            if len(batch) == VALIDATION_BATCH:
                check(batch)
                batch = []
    except etree.XMLSyntaxError as error:
        raise InvalidExport(str(error)) from error
    if root is None:
        refuse("no iati-activities root")


def _write(output, *, year: int | None) -> tuple[Counts, _Context]:
    context = _Context.load(year)
    counts = counts_template()
    # To the microsecond: the attacker dates what a file could know by it.
    generated = timezone.now().isoformat()
    try:
        with etree.xmlfile(output, encoding="utf-8") as xml:
            xml.write_declaration()
            root = {"version": "2.03", "generated-datetime": generated}
            with xml.element("iati-activities", root):
                # In identifier order (random UUIDs): independent of the database's order and
                # of which activities are full.
                for project, related in _projects(year):
                    decided, place = context.decide(project, related)
                    counts[decided] += 1
                    if place is not None:
                        activity = context.activity(project, related, decided, place)
                        xml.write(activity, pretty_print=True)
    except BaseException:
        context.close()
        raise
    return counts, context


# --- Reading: one ordered stream per table, merged by project id ---------------------------


def _scoped(queryset, project_field: str, year: int | None):
    if year is None:
        return queryset
    in_year = BudgetLine.objects.filter(year=year).values("project_id")
    return queryset.filter(**{f"{project_field}__in": in_year})


def _stream(queryset, project_field: str, year, *fields, order=()) -> Iterator:
    key = f"{project_field[: -len('_id')]}__public_id"
    rows = (
        _scoped(queryset, project_field, year)
        .order_by(key, *order)
        .values(key, *fields)
        .iterator(chunk_size=CHUNK)
    )
    return itertools.groupby(rows, key=lambda row: row[key])


def _projects(year: int | None) -> Iterator[tuple[dict, dict]]:
    """Each project (as a dict) with its budget lines, payments, intended results,
    indicators and values, in the order of their public ids: six queries for any number of
    projects."""
    projects = (
        _scoped(Project.objects.all(), "pk", year)
        .order_by("public_id")
        .values(
            "pk",
            "public_id",
            "title",
            "description",
            "status",
            "start_date",
            "end_date",
            "updated_at",
            "created_at",
            "post_id",
            "priority__code",
            "partner__name",
            "partner__partner_type",
            "partner__sensitivity",
            "partner__cleared_for_publication",
            "partner__cleared_at",
            "texts_changed_at",
            "partner__country_id",
            "partner__country__dac_region",
            "partner__country__name_nl",
            "partner__country__name_en",
        )
        .iterator(chunk_size=CHUNK)
    )
    from ..models import IatiKeptActivity

    streams = {
        "kept": _stream(
            IatiKeptActivity.objects.all(), "project_id", year, "start", "region", "named"
        ),
        "budget_lines": _stream(
            BudgetLine.objects.all(), "project_id", year, "year", "amount", order=("year",)
        ),
        "disbursements": _stream(
            Disbursement.objects.all(), "project_id", year, "date", "amount", order=("date", "pk")
        ),
        "intended_results": _stream(
            Project.intended_results.through.objects.all(),
            "project_id",
            year,
            "intendedresult_id",
            order=("intendedresult__position", "intendedresult_id"),
        ),
        "indicators": _stream(
            Indicator.objects.all(),
            "project_id",
            year,
            "pk",
            "intended_result_id",
            "name",
            "unit",
            "changed_at",
            "baseline",
            "target",
            order=("pk",),
        ),
        "values": _stream(
            IndicatorValue.objects.all(),
            "indicator__project_id",
            year,
            "indicator_id",
            "year",
            "value",
            order=("indicator_id", "year"),
        ),
    }
    pending = {name: next(stream, None) for name, stream in streams.items()}
    for project in projects:
        related = {}
        for name, stream in streams.items():
            # Every stream is ordered by project id: skip groups of projects outside the
            # scope, take this project's group if it is next.
            while pending[name] is not None and pending[name][0] < project["public_id"]:
                pending[name] = next(stream, None)
            if pending[name] is not None and pending[name][0] == project["public_id"]:
                related[name] = list(pending[name][1])
                pending[name] = next(stream, None)
            else:
                related[name] = []
        yield project, related


class _Context:
    """What every activity needs besides its own rows: reference texts, the participations
    (for the policy), the geography with its kept cells and the free-text screen. A few small
    queries, loaded once."""

    def __init__(self, *, intended_results, priorities, public_years, geography, screen, year):
        self.intended_results = intended_results
        self.priorities = priorities
        self.public_years = public_years
        self.geography = geography
        self.screen = screen
        self.year = year
        self.prefix = settings.IATI_REPORTING_ORG
        self.today = timezone.localdate()
        # Reduced activities all carry the file's day as their last change: no timestamp
        # to match against anything.
        self.file_day = datetime.combine(self.today, time(0), tzinfo=UTC).isoformat()
        # Kept once the file is published: each new reduced activity's start and region, and
        # the years whose cells it was placed under.
        self.new_activities = Spool()  # (project pk, start, region, named)
        self.regions_filled = Spool()  # (project pk, region): named before, reduced now
        self.years_placed: set[int] = set()
        self.k = settings.IATI_REGION_MIN_POSTS

    def close(self) -> None:
        """Let go of the rows put aside (their temporary files)."""
        self.new_activities.close()
        self.regions_filled.close()

    @classmethod
    def load(cls, year: int | None) -> _Context:
        from ..models import IatiRegionCell

        # Every year's participations, whatever the scope: a project's outcome depends on
        # all its years, and its region on its start year, so the scopes agree.
        rows = list(
            Participation.objects.filter(selected=True).values(
                "post_id", "fund_year__year", "published"
            )
        )
        public_years: dict[int, set[int]] = {}
        members: dict[int, set[int]] = {}
        for row in rows:
            members.setdefault(row["fund_year__year"], set()).add(row["post_id"])
            if row["published"]:
                public_years.setdefault(row["post_id"], set()).add(row["fund_year__year"])
        # A post selected at some moment took part (its call was announced): it stays in the
        # year's posts after it leaves, as its projects and the files published do.
        for row in (
            Participation.history.filter(selected=True)
            .order_by()  # not DISTINCT over every history row (its order's columns)
            .values("post_id", "fund_year__year")
        ).distinct():
            members.setdefault(row["fund_year__year"], set()).add(row["post_id"])
        confidential_posts = {
            year: {post for post in posts if year not in public_years.get(post, ())}
            for year, posts in members.items()
        }
        kept: dict[int, dict[int, str]] = {}
        for cell in IatiRegionCell.objects.values("year", "post_id", "region"):
            kept.setdefault(cell["year"], {})[cell["post_id"]] = cell["region"]
        involved = set().union(*members.values(), *(set(c) for c in kept.values()))
        post_countries: dict[int, dict[str, str]] = {}
        for post in Post.objects.filter(pk__in=involved).values(
            "pk", "host_country_id", "host_country__dac_region"
        ):
            post_countries.setdefault(post["pk"], {})[post["host_country_id"]] = post[
                "host_country__dac_region"
            ]
        for covered in Post.countries_covered.through.objects.filter(post_id__in=involved).values(
            "post_id", "country_id", "country__dac_region"
        ):
            post_countries.setdefault(covered["post_id"], {})[covered["country_id"]] = covered[
                "country__dac_region"
            ]
        # A country a post was ever in or covered stays its country for a reader who noted it
        # (the post's history keeps them): hidden while that post is confidential.
        ever = {post: set(countries) for post, countries in post_countries.items()}
        for row in Post.history.filter(id__in=involved).values("id", "host_country_id"):
            ever.setdefault(row["id"], set()).add(row["host_country_id"])
        covered_history = apps.get_model("countries", "HistoricalPost_countries_covered")
        for row in covered_history.objects.filter(post_id__in=involved).values(
            "post_id", "country_id"
        ):
            ever.setdefault(row["post_id"], set()).add(row["country_id"])
        geography = policy.Geography(
            post_countries=post_countries,
            members_by_year=members,
            kept_cells=kept,
            confidential_countries={
                year: {country for post in posts for country in ever.get(post, ())}
                for year, posts in confidential_posts.items()
            },
            min_posts=settings.IATI_REGION_MIN_POSTS,
        )
        named = {country for countries in ever.values() for country in countries}
        screen = policy.TextScreen(
            Country.objects.filter(pk__in=named).values_list("code", "name_nl", "name_en")
        )
        intended_results = {
            row["pk"]: row for row in IntendedResult.objects.values("pk", "text_nl", "text_en")
        }
        priorities = {
            row["code"]: row for row in Priority.objects.values("code", "name_nl", "name_en")
        }
        return cls(
            intended_results=intended_results,
            priorities=priorities,
            public_years=public_years,
            geography=geography,
            screen=screen,
            year=year,
        )

    # --- The policy -------------------------------------------------------------------------

    @staticmethod
    def years(project: dict) -> set[int]:
        """Every calendar year the project runs in: its money, its results and its dates all
        fall in them (R9, R13)."""
        return set(range(project["start_date"].year, project["end_date"].year + 1))

    def decide(self, project: dict, related: dict) -> tuple[Outcome, policy.Place | None]:
        """The outcome and the place of a project; no place: nothing is written."""
        kept = related["kept"][0] if related["kept"] else None
        # Every year the activity runs in, and ever ran in as published: a project moved out
        # of a confidential year must not then name its country (the earlier file shows it).
        years = self.years(project)
        if kept is not None:
            years |= set(range(kept["start"].year, project["end_date"].year + 1))
        public = years <= self.public_years.get(project["post_id"], set())
        # R11: the clearance covers the partner's name and the texts as the fund manager saw
        # them; a later text (or a project moved to the partner) is not cleared.
        cleared = project["partner__cleared_for_publication"] and self._texts_cleared(
            project, related
        )
        decided = policy.outcome(
            sensitivity=project["partner__sensitivity"],
            cleared=cleared,
            participation_public=public,
        )
        if decided == Outcome.EXCLUDED:
            return decided, None
        start = kept["start"] if kept is not None else policy.quarter_start(project["start_date"])
        if decided == Outcome.FULL:
            place = self.geography.place(
                decided,
                country=project["partner__country_id"],
                partner_region=project["partner__country__dac_region"],
                post=project["post_id"],
                year=project["start_date"].year,
                years=years,
            )
            if place is not None and place.country:
                # A text that names a hidden country would name it anyway: reduced.
                texts = [project["title"], project["description"], project["partner__name"]]
                texts += [row["name"] for row in related["indicators"]]
                if not self.screen.names_any(texts, self.geography.hidden(years)):
                    if kept is None:  # named from now on: later forms are linked to the post
                        self.new_activities.append((project["pk"], start, "", True))
                    return decided, place
            # The country is hidden: the partner's name (which it may publish itself), the
            # texts and the theme would point at it. Reduced.
            decided = Outcome.REDUCED
        if kept is not None and kept["named"] and not public:
            # Once named, every later form of the activity points at its post: only as long
            # as the post's participation is public in every year it runs.
            return Outcome.WITHHELD, None
        region = (kept or {}).get("region") or self.geography.region(
            post=project["post_id"],
            year=start.year,
            partner_region=project["partner__country__dac_region"],
        )
        if region is None:
            return Outcome.WITHHELD, None
        span = range(start.year, max(start.year, project["end_date"].year) + 1)
        if self.geography.stands_for(region, year=start.year, span=span) < self.k:
            # Its budget years show that its post takes part in each of them (R6, R9): too
            # few posts of its region do, for now.
            return Outcome.WITHHELD, None
        if kept is None:
            self.new_activities.append((project["pk"], start, region, False))
        elif not kept["region"]:
            self.regions_filled.append((project["pk"], region))
        self.years_placed.add(start.year)
        return decided, policy.Place(region=region)

    @staticmethod
    def published_start(project: dict, related: dict) -> date:
        """A reduced activity's start: the quarter it was first published with (kept), else
        the quarter of its start date."""
        if related["kept"]:
            return related["kept"][0]["start"]
        return policy.quarter_start(project["start_date"])

    @staticmethod
    def _texts_cleared(project: dict, related: dict) -> bool:
        """R11: the clearance covers the texts as the ministry saw them when it cleared."""
        cleared_at = project["partner__cleared_at"]
        changed = [
            project["texts_changed_at"],
            *(row["changed_at"] for row in related["indicators"]),
        ]
        return cleared_at is not None and all(
            moment is None or moment <= cleared_at for moment in changed
        )

    # --- The activity -----------------------------------------------------------------------

    def activity(
        self, project: dict, related: dict, decided: Outcome, place: policy.Place
    ) -> etree._Element:
        full = decided == Outcome.FULL
        start, end = project["start_date"], project["end_date"]
        if not full:  # R11: no date finer than the quarter, and the start as first published
            start = self.published_start(project, related)
            end = max(policy.quarter_end(end), policy.quarter_end(start))
        updated = (
            project["updated_at"].replace(microsecond=0).isoformat() if full else self.file_day
        )
        activity = etree.Element(
            "iati-activity",
            {
                "last-updated-datetime": updated,
                XML_LANG: "nl",
                "hierarchy": "1",
                "default-currency": code("Currency", "EUR"),
            },
        )
        _text(activity, "iati-identifier", f"{self.prefix}-{project['public_id']}")
        _organisation(activity, "reporting-org", ref=self.prefix, type_="10")
        title = etree.SubElement(activity, "title")
        if full:
            _narrative(title, project["title"])
        else:
            _narrative(title, REDUCED_TITLE["nl"], "nl")
            _narrative(title, REDUCED_TITLE["en"], "en")
        description = etree.SubElement(activity, "description", type=code("DescriptionType", "1"))
        if full and project["description"].strip():
            _narrative(description, project["description"])
        else:
            _narrative(description, REDUCED_DESCRIPTION["nl"], "nl")
            _narrative(description, REDUCED_DESCRIPTION["en"], "en")
        # The ministry funds, is accountable for and extends every project (roles 1, 2, 3).
        for role in ("1", "2", "3"):
            _organisation(activity, "participating-org", ref=self.prefix, type_="10", role=role)
        partner_type = code("OrganisationType", ORGANISATION_TYPE[project["partner__partner_type"]])
        implementing = etree.SubElement(
            activity, "participating-org", role=code("OrganisationRole", "4"), type=partner_type
        )
        if full:
            _narrative(implementing, project["partner__name"])
        else:
            _narrative(implementing, ANONYMOUS_PARTNER["nl"], "nl")
            _narrative(implementing, ANONYMOUS_PARTNER["en"], "en")
        etree.SubElement(
            activity,
            "activity-status",
            code=code("ActivityStatus", ACTIVITY_STATUS[project["status"]]),
        )
        self._dates(activity, project, start, end)
        if place.country:
            etree.SubElement(activity, "recipient-country", code=code("Country", place.country))
        else:
            etree.SubElement(
                activity,
                "recipient-region",
                code=code("Region", place.region),
                vocabulary=code("RegionVocabulary", "1"),
            )
        if full:
            sector = SECTOR_BY_PRIORITY.get(project["priority__code"], DEFAULT_SECTOR)
            etree.SubElement(
                activity,
                "sector",
                code=code("Sector", sector),
                vocabulary=code("SectorVocabulary", "1"),
            )
        else:  # R11: the priority is a quasi-identifier (posts announce theirs)
            etree.SubElement(
                activity,
                "sector",
                code=code("SectorCategory", policy.REDUCED_SECTOR_CATEGORY),
                vocabulary=code("SectorVocabulary", "2"),
            )
        # What every project of the fund is: a bilateral ODA grant for a project, untied.
        etree.SubElement(activity, "collaboration-type", code=code("CollaborationType", "1"))
        etree.SubElement(activity, "default-flow-type", code=code("FlowType", "10"))
        etree.SubElement(activity, "default-finance-type", code=code("FinanceType", "110"))
        etree.SubElement(
            activity,
            "default-aid-type",
            code=code("AidType", "C01"),
            vocabulary=code("AidTypeVocabulary", "1"),
        )
        etree.SubElement(activity, "default-tied-status", code=code("TiedStatus", "5"))
        amount = (lambda value: value) if full else policy.rounded
        committed = project["status"] in COMMITTED_PROJECT_STATUSES
        # A cancelled project's budgets are not spent: consumers would add them up.
        lines = [] if project["status"] == ProjectStatus.CANCELLED else related["budget_lines"]
        for line in lines:
            self._budget(activity, line, start, end, amount(line["amount"]), committed=committed)
        if committed and lines:
            total = amount(sum((line["amount"] for line in lines), Decimal(0)))
            # Committed when the project was recorded, or at its start if that was earlier
            # (a history import): a date that stays the same from one export to the next.
            made = min(project["start_date"], project["created_at"].date())
            _transaction(activity, "2", made if full else policy.quarter_start(made), total)
        payments = [row for row in related["disbursements"] if row["date"] <= self.today]
        if full:
            for payment in payments:  # a payment booked ahead is not made yet
                _transaction(activity, "3", payment["date"], payment["amount"])
        else:  # summed per quarter, dated the quarter's first day
            per_quarter: dict[date, Decimal] = {}
            for payment in payments:
                quarter = policy.quarter_start(payment["date"])
                per_quarter[quarter] = per_quarter.get(quarter, Decimal(0)) + payment["amount"]
            for quarter, paid in sorted(per_quarter.items()):
                _transaction(activity, "3", quarter, policy.rounded(paid))
        if full:  # reduced: results would name the priority and carry exact figures
            self._results(activity, project, related)
        return activity

    def _dates(self, activity, project, start: date, end: date) -> None:
        dates = [("1", start), ("3", end)]
        if project["status"] in COMMITTED_PROJECT_STATUSES and project["start_date"] <= self.today:
            dates.append(("2", start))
        if project["status"] == ProjectStatus.COMPLETED and end <= self.today:
            dates.append(("4", end))
        for kind, day in dates:
            etree.SubElement(
                activity,
                "activity-date",
                {"iso-date": day.isoformat(), "type": code("ActivityDateType", kind)},
            )

    def _budget(self, activity, line, start: date, end: date, amount, *, committed) -> None:
        # The calendar year of the budget line, within the project's (published) period.
        period_start = max(date(line["year"], 1, 1), start)
        period_end = min(date(line["year"], 12, 31), end)
        budget = etree.SubElement(
            activity,
            "budget",
            type=code("BudgetType", "1"),
            status=code("BudgetStatus", "2" if committed else "1"),
        )
        etree.SubElement(budget, "period-start", {"iso-date": period_start.isoformat()})
        etree.SubElement(budget, "period-end", {"iso-date": period_end.isoformat()})
        _value(budget, amount, period_start)

    def _results(self, activity, project, related) -> None:
        values_of: dict[int, list[dict]] = {}
        for value in related["values"]:
            values_of.setdefault(value["indicator_id"], []).append(value)
        result_ids = [row["intendedresult_id"] for row in related["intended_results"]]
        for indicator in related["indicators"]:
            if indicator["intended_result_id"] not in result_ids:
                result_ids.append(indicator["intended_result_id"])
        end_year = project["end_date"].year
        for result_id in result_ids:
            mine = [row for row in related["indicators"] if row["intended_result_id"] == result_id]
            if not mine:
                continue  # IATI: a result has at least one indicator
            intended = self.intended_results[result_id]
            result = etree.SubElement(
                activity, "result", {"type": code("ResultType", "2"), "aggregation-status": "0"}
            )
            title = etree.SubElement(result, "title")
            _narrative(title, intended["text_nl"], "nl")
            _narrative(title, intended["text_en"], "en")
            for row in mine:
                indicator = etree.SubElement(
                    result,
                    "indicator",
                    {
                        "measure": code("IndicatorMeasure", "1"),
                        "ascending": "1" if row["target"] >= row["baseline"] else "0",
                    },
                )
                name = etree.SubElement(indicator, "title")
                _narrative(name, f"{row['name']} ({row['unit']})")
                etree.SubElement(
                    indicator,
                    "baseline",
                    {"year": str(project["start_date"].year), "value": _amount(row["baseline"])},
                )
                reported = {value["year"]: value["value"] for value in values_of.get(row["pk"], [])}
                for period_year in sorted({*reported, end_year}):
                    period = etree.SubElement(indicator, "period")
                    etree.SubElement(
                        period, "period-start", {"iso-date": date(period_year, 1, 1).isoformat()}
                    )
                    etree.SubElement(
                        period, "period-end", {"iso-date": date(period_year, 12, 31).isoformat()}
                    )
                    if period_year == end_year:
                        etree.SubElement(period, "target", value=_amount(row["target"]))
                    if period_year in reported:
                        etree.SubElement(period, "actual", value=_amount(reported[period_year]))


def _text(parent, tag: str, text: str):
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


# Characters XML 1.0 cannot carry (control characters other than tab and newlines).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _narrative(parent, text: str, language: str | None = None) -> None:
    narrative = etree.SubElement(parent, "narrative")
    if language:
        narrative.set(XML_LANG, code("Language", language))
    narrative.text = printable(NOT_XML.sub("", text), keep_newlines=True)


def _organisation(parent, tag: str, *, ref: str, type_: str, role: str | None = None) -> None:
    attributes = {"ref": ref, "type": code("OrganisationType", type_)}
    if role:
        attributes["role"] = code("OrganisationRole", role)
    organisation = etree.SubElement(parent, tag, attributes)
    _narrative(organisation, MINISTRY["nl"], "nl")
    _narrative(organisation, MINISTRY["en"], "en")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _value(parent, amount: Decimal, value_date: date) -> None:
    value = etree.SubElement(
        parent, "value", {"currency": "EUR", "value-date": value_date.isoformat()}
    )
    value.text = _amount(amount)


def _transaction(activity, kind: str, day: date, amount: Decimal) -> None:
    transaction_element = etree.SubElement(activity, "transaction")
    etree.SubElement(transaction_element, "transaction-type", code=code("TransactionType", kind))
    etree.SubElement(transaction_element, "transaction-date", {"iso-date": day.isoformat()})
    _value(transaction_element, amount, day)
