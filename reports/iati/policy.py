"""The one disclosure policy of the IATI publication (R11), built on a stated attacker.

The attacker (docs/iati.md) holds every file the fund ever published, the public codelists and
region tree, where the Netherlands has posts, each post's announced priorities per year and
partners' own publications. The promise: every activity of a confidential participation stands
for at least k participating posts (IATI_REGION_MIN_POSTS), counted after all of that is
combined. The outcomes, in one table:

| outcome  | when                                                           | published as      |
| -------- | -------------------------------------------------------------- | ----------------- |
| full     | partner cleared by the ministry, participation public in every | names, texts,     |
|          | year of the project, its country may be named, and no text     | the country       |
|          | names a hidden country                                         |                   |
| reduced  | otherwise                                                      | cell, generalised |
| withheld | no cell stands for k posts yet (too few posts that year)       | nothing, for now  |
| excluded | highly sensitive partner, not cleared                          | nothing           |

*Cells.* Per fund year the participating posts are partitioned over the DAC region tree: a
post's home is the narrowest region holding all its countries; bottom up, a region with at least
k posts not already in a narrower cell becomes a cell of those posts; what is left at the top
(fewer than k) takes the smallest top cells back until it holds k. So a region stands only for
the posts it is the cell of, never for those published narrower. The partition is kept: the
export stores it (reports.IatiRegionCell) and later exports only add posts to cells (a post
that joins goes into the narrowest kept cell around its home) or make new cells of new posts;
a cell never splits, so no file is ever more precise than an earlier one. An activity is
placed in its post's cell of its start year, or at 998 (which then stands for every post of
the year) when its partner works outside that cell; it is held back while fewer than k of
those posts take part in every year it runs (its budget years show them). Its start and
region, once published, are kept (reports.IatiKeptActivity).

*Reduced activities* carry no quasi-identifier finer than the cell: no priority (the DAC
3-digit category 151 that all of the fund's purpose codes share), no results, amounts rounded
to EUR 10 000, dates to the quarter, payments summed per quarter, and the file's date as
last-updated time. Nothing here knows about XML: reports.iati.export asks, and writes.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from countryinfo import CountryInfo
from countryinfo.exceptions import CountryNotFoundError
from django.db import models
from django.utils.translation import gettext_lazy as _

from fund.codelists import UNSPECIFIED_REGION, codelist, region_path
from grants.models import Sensitivity


class Outcome(models.TextChoices):
    FULL = "full", _("Published in full")
    REDUCED = "reduced", _("Published reduced (anonymised, region, generalised)")
    WITHHELD = "withheld", _("Held back until a region stands for enough posts")
    EXCLUDED = "excluded", _("Left out")


def outcome(*, sensitivity: str, cleared: bool, participation_public: bool) -> Outcome:
    """R11: what may be published of a project, from its partner and its post (before the
    free-text screen and the geography, which may only demote)."""
    if sensitivity == Sensitivity.HIGH and not cleared:
        return Outcome.EXCLUDED
    if cleared and participation_public:
        return Outcome.FULL
    return Outcome.REDUCED


# --- Generalisation of a reduced activity's quasi-identifiers --------------------------------

AMOUNT_STEP = Decimal(10000)
REDUCED_SECTOR_CATEGORY = "151"  # Government & Civil Society-general: every code of the fund


def rounded(amount: Decimal) -> Decimal:
    """An amount to the nearest EUR 10 000 (half up)."""
    return (amount / AMOUNT_STEP).quantize(Decimal(1), rounding=ROUND_HALF_UP) * AMOUNT_STEP


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_end(day: date) -> date:
    last_month = 3 * ((day.month - 1) // 3) + 3
    return date(day.year, last_month, calendar.monthrange(day.year, last_month)[1])


# --- Cells: the partition of each year's posts over the region tree --------------------------


def home_region(regions: Iterable[str]) -> str:
    """The narrowest region holding all of a post's countries ('' for a country without a
    DAC region: then only 998 holds it)."""
    paths = [region_path(region or UNSPECIFIED_REGION) for region in regions]
    if not paths:
        return UNSPECIFIED_REGION
    common = set(paths[0]).intersection(*paths[1:])
    return next(region for region in paths[0] if region in common)


def _within(region: str, cell: str) -> bool:
    return cell in region_path(region)


def assign_cells(homes: Mapping[int, str], kept: Mapping[int, str], k: int) -> dict[int, str]:
    """Each post's cell: `kept` as it is, every other post (by its home region) added to the
    narrowest kept cell around its home, or grouped with other new posts into new cells of at
    least k. A post for which no cell of k can be made yet is left out (its reduced
    activities wait)."""
    assigned = dict(kept)
    kept_cells = set(kept.values())
    pending: dict[str, list[int]] = {}
    for post, home in homes.items():
        if post in assigned:
            continue
        around = [region for region in region_path(home) if region in kept_cells]
        if around:
            assigned[post] = around[0]
        else:
            pending.setdefault(home, []).append(post)
    if not pending:
        return assigned
    # Bottom up over the tree: deepest regions first.
    new_cells: dict[str, list[int]] = {}
    pool = {region: list(posts) for region, posts in pending.items()}
    order = sorted(
        {ancestor for region in pool for ancestor in region_path(region)},
        key=lambda r: (-len(region_path(r)), r),
    )
    for region in order:
        posts = pool.pop(region, [])
        if not posts:
            continue
        if len(posts) >= k:
            new_cells[region] = posts
            continue
        parent = region_path(region)[1] if region != UNSPECIFIED_REGION else None
        if parent is None:
            pool[region] = posts  # the top: fewer than k are left over
            break
        pool.setdefault(parent, []).extend(posts)
    leftover = pool.get(UNSPECIFIED_REGION, [])
    if leftover:
        # (A kept 998 would already hold every new post: here no cell around them exists.)
        # Take the smallest new top cells (no other cell between them and 998) back into
        # 998 until it stands for k posts.
        while leftover and len(leftover) < k:
            tops = [
                region
                for region in new_cells
                if region != UNSPECIFIED_REGION
                and not any(
                    other in new_cells or other in kept_cells for other in region_path(region)[1:-1]
                )
            ]
            if not tops:
                break
            smallest = min(tops, key=lambda r: (len(new_cells[r]), r))
            leftover = leftover + new_cells.pop(smallest)
        if len(leftover) >= k:
            new_cells[UNSPECIFIED_REGION] = leftover
    for region, posts in new_cells.items():
        for post in posts:
            assigned[post] = region
    return assigned


@dataclass(frozen=True)
class Place:
    """Where a published project takes place: a country code or a DAC region code."""

    country: str | None = None
    region: str | None = None


class Geography:
    """Cells per year, and the countries that may be named."""

    def __init__(
        self,
        *,
        post_countries: Mapping[int, Mapping[str, str]],
        members_by_year: Mapping[int, Iterable[int]],
        kept_cells: Mapping[int, Mapping[int, str]],
        confidential_countries: Mapping[int, Iterable[str]],
        min_posts: int,
    ):
        """`post_countries`: each post's countries (code → narrowest DAC region, '' when
        none); `members_by_year`: the posts taking part in each year (selected, or with a
        project starting then); `kept_cells`: the partition stored by earlier exports;
        `confidential_countries`: per year, the countries of the posts whose participation
        that year is confidential."""
        self.min_posts = min_posts
        self.confidential_countries = {
            year: frozenset(countries) for year, countries in confidential_countries.items()
        }
        self.kept = {year: dict(cells) for year, cells in kept_cells.items()}
        self.cells: dict[int, dict[int, str]] = {}
        years = set(members_by_year) | set(kept_cells)
        for year in years:
            members = set(members_by_year.get(year, ())) | set(self.kept.get(year, {}))
            homes = {
                post: home_region(post_countries.get(post, {}).values() or [""]) for post in members
            }
            self.cells[year] = assign_cells(homes, self.kept.get(year, {}), min_posts)
        self.members = {
            year: set(members_by_year.get(year, ())) | set(self.kept.get(year, {}))
            for year in years
        }

    def new_cells(self, years: Iterable[int]) -> list[tuple[int, int, str]]:
        """(year, post, region) decided now for these years (those the file placed activities
        under), to be kept once the file is published."""
        years = set(years)
        return [
            (year, post, region)
            for year, cells in sorted(self.cells.items())
            if year in years
            for post, region in sorted(cells.items())
            if post not in self.kept.get(year, {})
        ]

    def region(self, *, post: int, year: int, partner_region: str | None) -> str | None:
        """The post's cell in the year when the partner's country lies in it; otherwise 998,
        which then stands for every post of the year (a partner may work anywhere). None when
        the year has no cell yet (the activity waits)."""
        cell = self.cells.get(year, {}).get(post)
        if cell is None:
            return None
        if cell in region_path(partner_region or UNSPECIFIED_REGION):
            return cell
        return UNSPECIFIED_REGION

    def stands_for(self, region: str, *, year: int, span: Iterable[int]) -> int:
        """How many posts a reduced activity placed under `region` in `year` stands for, given
        that its post took part in every year of its span (R6: money only where a post takes
        part, R9: money in every year it runs)."""
        if region == UNSPECIFIED_REGION:
            posts = set(self.cells.get(year, {}))  # every post of the year (partners abroad)
        else:
            posts = {p for p, cell in self.cells.get(year, {}).items() if cell == region}
        for other in span:
            posts &= self.members.get(other, set())
        return len(posts)

    def place(
        self,
        decided: Outcome,
        *,
        country: str,
        partner_region: str | None,
        post: int,
        year: int,
        years: Iterable[int] = (),
    ) -> Place | None:
        if decided == Outcome.FULL and self.names(country, years or [year]):
            return Place(country=country)
        region = self.region(post=post, year=year, partner_region=partner_region)
        return Place(region=region) if region else None

    def hidden(self, years: Iterable[int]) -> frozenset[str]:
        """The countries of posts whose participation is confidential in one of these years."""
        return frozenset().union(*(self.confidential_countries.get(y, ()) for y in years))

    def names(self, country: str, years: Iterable[int]) -> bool:
        """Whether a full activity of these years may name this country."""
        return country not in self.hidden(years) and country in codelist("Country")


# --- Free text of full activities -------------------------------------------------------------


def _plain_name(name: str) -> str:
    return re.sub(r"\s*\(.*?\)\s*", " ", name).strip()


@cache
def _country_facts(code: str) -> tuple[str, ...]:
    """A real country's capital, demonym and other spellings (countryinfo's data)."""
    try:
        info = CountryInfo(code).info()
    except CountryNotFoundError:  # not a real country (the demo world's)
        return ()
    terms = [info.get("capital") or "", info.get("demonym") or "", info.get("name") or ""]
    terms += [spelling for spelling in info.get("altSpellings") or () if len(spelling) > 3]
    return tuple(term for term in terms if term)


class TextScreen:
    """Finds the name of a hidden country in a text: its Dutch and English names, its capital,
    demonym and other spellings, and words built on the Dutch or English name's stem
    (Kenia → Keniaans, Kenianen; Kenya → Kenyan)."""

    def __init__(self, countries: Iterable[tuple[str, str, str]]):
        self.patterns: dict[str, re.Pattern] = {}
        for code, name_nl, name_en in countries:
            words = {_plain_name(name_nl), _plain_name(name_en), *_country_facts(code)}
            words.discard("")
            stems = set()
            for name in (_plain_name(name_nl), _plain_name(name_en)):
                stem = re.sub(r"(ië|ë|[aeiouy])$", "", name, flags=re.IGNORECASE)
                if len(stem) >= 4 and " " not in stem:
                    stems.add(stem)
            parts = [re.escape(word) + r"\b" for word in sorted(words)]
            parts += [re.escape(stem) + r"\w*" for stem in sorted(stems)]
            self.patterns[code] = re.compile(r"\b(?:" + "|".join(parts) + ")", re.IGNORECASE)

    def names_any(self, texts: Iterable[str], countries: Iterable[str]) -> bool:
        text = "\n".join(texts)
        return any(self.patterns[code].search(text) for code in countries if code in self.patterns)
