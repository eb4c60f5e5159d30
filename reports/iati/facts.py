"""What the attacker of docs/iati.md may know besides the files: the public facts, gathered
from the database as plain data, and the files published before.

These are facts, not policy: where each post is (the Netherlands' post network is public),
which posts took part in which year and with which priorities (posts announce their calls
for proposals), and which participations the ministry made public. The attacker gets them
as a worst case — it is told everything a diligent reader could find out — and nothing of
how the policy decides.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.db.models import Min
from django.db.models.functions import ExtractYear

from countries.models import Country, Participation, Post
from grants.models import AnnualPlan, FundYear, PlanPriority, Project
from priorities.models import Priority


def public_facts() -> dict:
    """{"posts": {post: {"countries": {code: region}, "years": {year: {"priorities": [...],
    "public": bool, "since": ISO time, "public_since": ISO time}}}}, "countries": {code:
    [name_nl, name_en]}}, JSON-able. `since`: when the post was first selected for the year;
    `public_since`: when its participation was first made public."""
    posts: dict[int, dict] = {}

    def year_of(post_id: int, year: int, since=None) -> dict:
        entry = posts.setdefault(post_id, {"countries": {}, "years": {}})
        facts = entry["years"].setdefault(
            year, {"priorities": set(), "public": False, "since": None, "public_since": None}
        )
        if since is not None:
            since = since.isoformat()
            if facts["since"] is None or since < facts["since"]:
                facts["since"] = since
        return facts

    # Taking part: selected at some moment for the year (a post announces its call once it is
    # selected; the participation's history keeps every moment), since the first selection.
    # Public: made public at some moment (what was published stays known), since then.
    for row in (
        Participation.history.filter(selected=True)
        .values("post_id", "fund_year__year")
        .annotate(first=Min("history_date"))
    ):
        year_of(row["post_id"], row["fund_year__year"], row["first"])
    for row in (
        Participation.history.filter(selected=True, published=True)
        .values("post_id", "fund_year__year")
        .annotate(first=Min("history_date"))
    ):
        facts = year_of(row["post_id"], row["fund_year__year"])
        facts["public"] = True
        facts["public_since"] = row["first"].isoformat()
    # Priorities: every one the year's plan ever chose, and every one a project starting in the
    # year ever had (an announcement, or a file, is not taken back by a later change).
    codes = dict(Priority.objects.values_list("pk", "code"))
    fund_years = dict(FundYear.objects.values_list("pk", "year"))
    plans = {
        row["id"]: (row["post_id"], fund_years.get(row["fund_year_id"]))
        for row in AnnualPlan.history.order_by().values("id", "post_id", "fund_year_id").distinct()
    }
    announced = [
        (*plans.get(row["plan_id"], (None, None)), codes.get(row["priority_id"]))
        for row in PlanPriority.history.order_by().values("plan_id", "priority_id").distinct()
    ]
    announced += [
        (row["post_id"], row["start_year"], codes.get(row["priority_id"]))
        for row in Project.history.order_by()  # DISTINCT with the history's order would
        .annotate(start_year=ExtractYear("start_date"))  # fetch every row: 520 MB at 1 000 000
        .values("post_id", "start_year", "priority_id")
        .distinct()
    ]
    for post_id, year, code in announced:
        years = posts.get(post_id, {}).get("years", {})
        if year in years and code:
            years[year]["priorities"].add(code)
    # Every country a post is or ever was in or covered (its history keeps them), and since
    # when: a reader who noted a post's accreditation once still knows it, but a file could
    # not know of an accreditation that came after it.
    regions = dict(Country.objects.values_list("code", "dac_region"))

    def country_of(post_id, code, since=None) -> None:
        entry = posts[post_id]
        entry["countries"][code] = regions.get(code, "")
        moments = entry.setdefault("country_since", {})
        stamp = since.isoformat() if since is not None else ""
        if code not in moments or (stamp and (not moments[code] or stamp < moments[code])):
            moments[code] = stamp

    for row in (
        Post.history.filter(id__in=posts)
        .values("id", "host_country_id")
        .annotate(first=Min("history_date"))
    ):
        country_of(row["id"], row["host_country_id"], row["first"])
    covered = apps.get_model("countries", "HistoricalPost_countries_covered")
    for row in (
        covered.objects.filter(post_id__in=posts)
        .values("post_id", "country_id")
        .annotate(first=Min("history__history_date"))
    ):
        country_of(row["post_id"], row["country_id"], row["first"])
    # Today's countries (a post loaded without history counts as always there).
    for post in Post.objects.filter(pk__in=posts).values("pk", "host_country_id"):
        if post["host_country_id"] not in posts[post["pk"]]["countries"]:
            country_of(post["pk"], post["host_country_id"])
    for row in Post.countries_covered.through.objects.filter(post_id__in=posts).values(
        "post_id", "country_id"
    ):
        if row["country_id"] not in posts[row["post_id"]]["countries"]:
            country_of(row["post_id"], row["country_id"])
    for entry in posts.values():
        for year in entry["years"].values():
            year["priorities"] = sorted(year["priorities"])
    codes = {code for entry in posts.values() for code in entry["countries"]}
    countries = {
        code: [name_nl, name_en]
        for code, name_nl, name_en in Country.objects.filter(pk__in=codes).values_list(
            "code", "name_nl", "name_en"
        )
    }
    return {"posts": posts, "countries": countries}


class MissingPublishedFile(RuntimeError):
    """An earlier published IATI file is gone from the storage: no export is checked
    without it."""


@contextmanager
def earlier_files() -> Iterator[list[Path]]:
    """Local paths of every IATI file published and still kept, oldest first (copied from
    the storage when it has no local paths)."""
    from ..models import IatiExport, ReportStatus

    exports = list(
        IatiExport.objects.filter(status=ReportStatus.DONE)
        .exclude(file="")
        .order_by("created_at", "pk")
    )
    with tempfile.TemporaryDirectory() as scratch:
        paths = []
        for export in exports:
            storage = export.file.storage
            if not storage.exists(export.file.name):
                # R11: the attacker holds every file the fund published; one that cannot be
                # read cannot be checked against (a storage moved without its files).
                raise MissingPublishedFile(
                    f"the published file of IATI export {export.pk} ({export.file.name}) is "
                    "not in the file storage; restore it (docs/deploy.md) before exporting"
                )
            try:
                paths.append(Path(storage.path(export.file.name)))
            except NotImplementedError:  # object storage
                local = Path(scratch) / f"{export.pk}.xml"
                with storage.open(export.file.name, "rb") as source, open(local, "wb") as copy:
                    shutil.copyfileobj(source, copy)
                paths.append(local)
        yield paths
