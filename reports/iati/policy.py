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

A region is named only where at least *k* participating posts' countries lie in it
(IATI_REGION_MIN_POSTS, default 3); otherwise the next wider region, up to 998 "developing
countries, unspecified". Nothing here knows about XML: reports.iati.export asks, and writes.
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
    """Countries and regions that may be named, given which posts take part and which of
    their participations are public."""

    def __init__(
        self,
        *,
        participating_countries: Mapping[str, str],
        confidential_countries: Iterable[str],
        min_posts: int,
    ):
        """`participating_countries`: the participating posts' countries (code → narrowest DAC
        region, '' when none); `confidential_countries`: the countries of the posts whose
        participation is not public."""
        self.min_posts = min_posts
        self.confidential_countries = frozenset(confidential_countries)
        self.posts_in_region: Counter[str] = Counter()
        for region in participating_countries.values():
            for wider in region_path(region or UNSPECIFIED_REGION):
                self.posts_in_region[wider] += 1

    def region(self, country_region: str | None) -> str:
        """The narrowest region around the country that holds at least k participating posts'
        countries; 998 when none does (or the country has no DAC region)."""
        for region in region_path(country_region or UNSPECIFIED_REGION):
            if region == UNSPECIFIED_REGION or self.posts_in_region[region] >= self.min_posts:
                return region
        return UNSPECIFIED_REGION

    def place(self, decided: Outcome, *, country: str, country_region: str | None) -> Place:
        if (
            decided == Outcome.FULL
            and country not in self.confidential_countries
            and country in codelist("Country")
        ):
            return Place(country=country)
        return Place(region=self.region(country_region))
