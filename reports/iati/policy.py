"""The one sensitivity policy of the IATI publication (R11).

For each project it decides what may be published:

- *full*: the partner is cleared for publication and the post's participation is public in
  every year the project has money. Title, description, the implementing partner's name and
  the recipient country appear (the country only if it is not also the country of a post whose
  participation is confidential, and is an official IATI country code; otherwise a region).
- *reduced*: otherwise. The implementing organisation is anonymised to its type, a region
  stands in for the country, and title, description and indicator names are generic texts.
- *excluded*: the partner is highly sensitive (a safety risk) and not cleared: the project
  is left out of the file altogether.

A region is named only where at least *k* participating posts lie in it (IATI_REGION_MIN_POSTS,
default 3) in every year of the project; otherwise the next wider region, up to 998 "developing
countries, unspecified". A project's years are the calendar years from its start to its end.
Nothing here knows about XML: reports.iati.export asks, and writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from grants.models import Sensitivity

from .codelists import UNSPECIFIED_REGION, codelist, region_path


class Outcome(models.TextChoices):
    FULL = "full", _("Published in full")
    REDUCED = "reduced", _("Published reduced (anonymised, region, generic texts)")
    EXCLUDED = "excluded", _("Left out")


def outcome(*, sensitivity: str, cleared: bool, participation_public: bool) -> Outcome:
    """R11: what may be published of a project, from its partner and its post."""
    if sensitivity == Sensitivity.HIGH and not cleared:
        return Outcome.EXCLUDED
    if cleared and participation_public:
        return Outcome.FULL
    return Outcome.REDUCED


@dataclass(frozen=True)
class Place:
    """Where a published project takes place: a country code or a DAC region code."""

    country: str | None = None
    region: str | None = None


class Geography:
    """Countries and regions that may be named, given which posts take part in which year and
    which of their participations are public."""

    def __init__(
        self,
        *,
        post_countries: Mapping[int, Mapping[str, str]],
        posts_by_year: Mapping[int, Iterable[int]],
        confidential_countries: Mapping[int, Iterable[str]],
        min_posts: int,
    ):
        """`post_countries`: each participating post's countries (host and covered: code →
        narrowest DAC region, '' when none); `posts_by_year`: the posts selected in each fund
        year; `confidential_countries`: per year, the countries of the posts whose
        participation that year is confidential."""
        self.min_posts = min_posts
        self.confidential_countries = {
            year: frozenset(countries) for year, countries in confidential_countries.items()
        }
        # Posts per region and year: a post counts once in a region, however many of its
        # countries lie in it (k counts posts, not countries).
        self.posts_in_region: dict[int, Counter[str]] = {}
        for year, posts in posts_by_year.items():
            counter = self.posts_in_region.setdefault(year, Counter())
            for post in posts:
                regions = set()
                for region in post_countries.get(post, {}).values():
                    regions.update(region_path(region or UNSPECIFIED_REGION))
                counter.update(regions)

    def region(self, country_region: str | None, years: Iterable[int]) -> str:
        """The narrowest region around the country that holds at least k participating posts
        in every year of the project (so an export of one year and of all years agree); 998
        when none does, or when the country has no DAC region."""
        years = list(years)
        for region in region_path(country_region or UNSPECIFIED_REGION):
            if region == UNSPECIFIED_REGION:
                return region
            if all(
                self.posts_in_region.get(year, Counter())[region] >= self.min_posts
                for year in years
            ):
                return region
        return UNSPECIFIED_REGION

    def place(
        self, decided: Outcome, *, country: str, country_region: str | None, years: Iterable[int]
    ) -> Place:
        years = list(years)
        hidden = any(country in self.confidential_countries.get(year, ()) for year in years)
        if decided == Outcome.FULL and not hidden and country in codelist("Country"):
            return Place(country=country)
        return Place(region=self.region(country_region, years))
