"""The attacker of docs/iati.md, in code: it reads only what was published and what is
public, and computes each activity's anonymity set — the participating posts that can still
be behind it once everything is combined.

It shares nothing with the policy (reports.iati.policy) or the writer (reports.iati.export):
it parses the files with lxml, reads the public DAC region tree from the vendored data file
itself, and knows the export's rules only as any reader of docs/iati.md does (Kerckhoffs:
the method is public). Its inferences, for an activity seen in every file that holds it:

1. *Time.* The activity belongs to a post that took part in every year it runs, from its
   published start to its end (R9: money in each year; R6: money only where the post takes
   part), each file's view in its own years, and had been selected when the file was written.
   A file holds only posts that took part when it was written (announcements are dated).
2. *Place.* A recipient country: a post with that country (none has it: any public post, as a
   partner may work abroad). 998: any post. Another region: a post with a country in it —
   except a post whose countries all lie in a narrower region that some activity of the same
   start year was published under in any file (the method publishes a post under its own
   region, or 998, so such a post would have been published narrower). Two files that place
   the activity differently: both hold.
3. *Theme.* A 5-digit DAC purpose code: a post that announced a priority with that code in
   that year (the mapping is public, in docs/iati.md).
4. *Words.* A country named in any published text of the activity (its names in Dutch and
   English, capital, demonym and words built on the name): a post with that country.

An activity is safe when its anonymity set holds at least k posts, or only posts whose
participation that year was public when a file holding it was written. Anything else —
fewer than k, or none at all (the files contradict the public facts) — is a failure.
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from countryinfo import CountryInfo
from countryinfo.exceptions import CountryNotFoundError
from lxml import etree

# The public DAC region tree, read as a file: the attacker shares no code with the export.
_TREE = Path(__file__).resolve().parents[2] / "fund" / "vendor" / "dac_regions.json"
_WORLD = "998"
# docs/iati.md: the public table of purpose codes per priority.
_PRIORITIES_OF_SECTOR = {
    "15170": {"women_girls"},
    "15160": {"lgbtiq", "religion_belief"},
    "15153": {"expression"},
    "15150": {"defenders_civic_space"},
    "15130": {"accountability"},
}


_FALLBACK_SECTOR = "15160"
_KNOWN_PRIORITIES = set().union(*_PRIORITIES_OF_SECTOR.values())


def _parents() -> dict[str, str]:
    return json.loads(_TREE.read_text(encoding="utf-8"))["wider_region"]


@dataclass
class View:
    """What one file says of one activity."""

    year: int
    at: str  # the file's generated-datetime, to the second
    country: str | None
    region: str | None
    sectors: tuple[str, ...]
    texts: tuple[str, ...]
    last: int = 0  # the year of its (latest published) end

    @property
    def span(self) -> range:
        """Every year it runs in: R9 gives it money in each, R6 money only where its post
        takes part."""
        return range(self.year, max(self.year, self.last) + 1)


@dataclass
class Verdict:
    smallest: int | None = None
    failures: list[str] = field(default_factory=list)
    checked: int = 0


def _views(path: Path) -> Iterator[tuple[str, View]]:
    """(identifier, view) of every activity of a file, as a stream."""
    generated = ""
    for event, element in etree.iterparse(
        str(path),
        events=("start", "end"),
        tag=("iati-activities", "iati-activity"),
        huge_tree=True,
    ):
        if element.tag == "iati-activities":
            if event == "start":
                generated = element.get("generated-datetime") or ""
            continue
        if event != "end":
            continue
        identifier = (element.findtext("iati-identifier") or "").strip()
        starts = [
            date.get("iso-date", "")
            for date in element.findall("activity-date")
            if date.get("type") in ("1", "2")
        ]
        year = int(min(starts)[:4]) if starts else 0
        ends = [
            date.get("iso-date", "")
            for date in element.findall("activity-date")
            if date.get("type") in ("3", "4")
        ]
        last = max(year, int(max(ends)[:4])) if ends else year
        country = element.find("recipient-country")
        region = element.find("recipient-region")
        sectors = tuple(
            sector.get("code", "")
            for sector in element.findall("sector")
            if sector.get("vocabulary", "1") == "1"
        )
        texts = tuple(
            narrative.text or ""
            for narrative in element.iter("narrative")
            if narrative.getparent().tag not in ("reporting-org",)
        )
        yield (
            identifier,
            View(
                year=year,
                last=last,
                at=generated,
                country=country.get("code") if country is not None else None,
                region=region.get("code") if region is not None else None,
                sectors=sectors,
                texts=texts,
            ),
        )
        element.clear(keep_tail=True)
        while element.getprevious() is not None:
            del element.getparent()[0]


class _OutOfOrder(Exception):
    pass


def _sorted(stream: Iterator[tuple[str, View]]) -> Iterator[tuple[str, View]]:
    previous = None
    for identifier, view in stream:
        if previous is not None and identifier < previous:
            raise _OutOfOrder
        previous = identifier
        yield identifier, view


class Attacker:
    def __init__(self, facts: dict, *, k: int):
        self.k = k
        self.parents = _parents()
        self.posts = facts["posts"]
        self.homes = {post: self._home(entry["countries"]) for post, entry in self.posts.items()}
        self._part: dict[tuple, set] = {}
        self._texts: dict[tuple, list[str]] = {}
        self.words = {
            code: self._pattern(code, names) for code, names in facts.get("countries", {}).items()
        }

    def _path(self, region: str | None) -> list[str]:
        path, current = [], region or _WORLD
        while current and current not in path:
            path.append(current)
            current = self.parents.get(current, _WORLD) if current != _WORLD else None
        return path

    def _home(self, countries: dict[str, str]) -> str:
        paths = [self._path(region) for region in countries.values()] or [[_WORLD]]
        common = set(paths[0]).intersection(*paths[1:])
        return next(region for region in paths[0] if region in common)

    @staticmethod
    def _pattern(code: str, names: Iterable[str]) -> re.Pattern:
        words, stems = set(), set()
        for name in names:
            plain = re.sub(r"\s*\(.*?\)\s*", " ", name or "").strip()
            if plain:
                words.add(plain)
                stem = re.sub(r"(ië|ë|[aeiouy])$", "", plain, flags=re.IGNORECASE)
                if len(stem) >= 4 and " " not in stem:
                    stems.add(stem)
        try:  # a real country: capital and demonym, from a public gazetteer
            info = CountryInfo(code).info()
        except CountryNotFoundError:
            info = {}
        words.update(term for term in (info.get("capital"), info.get("demonym")) if term)
        parts = [re.escape(word) + r"\b" for word in words]
        parts += [re.escape(stem) + r"\w*" for stem in stems]
        return re.compile(r"\b(?:" + "|".join(parts) + ")", re.IGNORECASE) if parts else None

    def _taking_part(self, year: int, at: str) -> set:
        """The posts known to take part in the year at the time the file was made: a file
        holds only activities of posts that took part when it was written."""
        key = (year, at)
        if key not in self._part:
            self._part[key] = {
                post
                for post, entry in self.posts.items()
                if (facts := _year(entry, year)) is not None and _no_later(facts.get("since"), at)
            }
        return self._part[key]

    def _named(self, texts: tuple[str, ...]) -> list[str]:
        """The countries a text names (cached: most texts are the generic ones)."""
        if texts not in self._texts:
            text = "\n".join(texts)
            self._texts[texts] = [
                code
                for code, pattern in self.words.items()
                if pattern is not None and pattern.search(text)
            ]
            if len(self._texts) > 10000:
                self._texts.clear()
        return self._texts[texts]

    def _had(self, post, code: str, at: str) -> bool:
        """Whether the post was in or covered the country when the file was written."""
        entry = self.posts[post]
        if code not in entry["countries"]:
            return False
        since = entry.get("country_since", {}).get(code) or ""
        return _no_later(since, at)

    def _public(self, post, year: int, at: str) -> bool:
        facts = _year(self.posts[post], year) or {}
        since = facts.get("public_since")
        return bool(facts.get("public")) and _no_later(since, at)

    def candidates(self, view: View, published: dict[int, set[str]]) -> set:
        posts = set(self._taking_part(view.year, view.at))
        for other in view.span:
            posts &= self._taking_part(other, view.at)
        if view.country:
            with_country = {p for p in posts if self._had(p, view.country, view.at)}
            # A partner may work in a country no post covers: then any public post could be
            # behind it (only public participations are named).
            posts = with_country or {p for p in posts if self._public(p, view.year, view.at)}
        else:
            region = view.region or _WORLD
            # 998 stands for every post (a partner may work outside its post's region); a
            # narrower region only for the posts not published narrower still.
            narrower = (
                set()
                if region == _WORLD
                else {
                    other
                    for other in published.get(view.year, ())
                    if other != region and region in self._path(other)
                }
            )
            # A post with a country in the region; not one whose countries all lie in a
            # narrower region published for the year (it would have been published there).
            posts = {
                p
                for p in posts
                if any(
                    region in self._path(country_region)
                    for country_region in self.posts[p]["countries"].values() or [_WORLD]
                )
                and not any(other in self._path(self.homes[p]) for other in narrower)
            }
        for sector in view.sectors:
            themes = _PRIORITIES_OF_SECTOR.get(sector)
            if themes:
                posts = {
                    p
                    for p in posts
                    if (mine := set(_year(self.posts[p], view.year)["priorities"])) & themes
                    # docs/iati.md: a priority without a code of its own is published as 15160
                    or (sector == _FALLBACK_SECTOR and mine - _KNOWN_PRIORITIES)
                }
        for code in self._named(view.texts):
            # A text naming a country points at the posts there when the file was written: a
            # leak only where those are fewer than k and not all public.
            there = {
                p for p in self._taking_part(view.year, view.at) if self._had(p, code, view.at)
            }
            if len(there) < self.k and not all(self._public(p, view.year, view.at) for p in there):
                posts = posts & there
        return posts

    def judge(self, identifier: str, views: list[View], published, verdict: Verdict) -> None:
        """Every file's view of the activity must hold at once, each in its own year."""
        posts = None
        for view in views:
            found = self.candidates(view, published)
            posts = found if posts is None else posts & found
        verdict.checked += 1
        # Safe if every post left was public, by the latest file, in every year the files
        # place the activity in (what was once made public stays known).
        latest = max(view.at for view in views)
        years = {year for view in views for year in view.span}
        if posts and all(self._public(p, year, latest) for p in posts for year in years):
            return
        size = len(posts or ())
        verdict.smallest = size if verdict.smallest is None else min(verdict.smallest, size)
        if size < self.k:
            verdict.failures.append(f"{identifier} ({size})")


@cache
def _moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _no_later(since: str | None, at: str) -> bool:
    """Whether a fact dated `since` was known when a file generated `at` was written (no
    date on either side: known)."""
    when, written = _moment(since or ""), _moment(at or "")
    return when is None or written is None or when <= written


def _year(entry: dict, year: int) -> dict | None:
    years = entry["years"]
    return years.get(year, years.get(str(year)))


def check_files(paths: Iterable[Path], facts: dict, *, k: int) -> Verdict:
    """The anonymity set of every activity in these files, read together."""
    paths = [Path(path) for path in paths]
    attacker = Attacker(facts, k=k)
    # First pass: the regions published per start year, in any file.
    published: dict[int, set[str]] = {}
    for path in paths:
        for _identifier, view in _views(path):
            if view.region:
                published.setdefault(view.year, set()).add(view.region)
    verdict = Verdict()
    try:
        # Files in identifier order are merged as streams (memory flat in the file size).
        merged = heapq.merge(*(_sorted(_views(path)) for path in paths), key=lambda item: item[0])
        for identifier, group in itertools.groupby(merged, key=lambda item: item[0]):
            attacker.judge(identifier, [view for _id, view in group], published, verdict)
    except _OutOfOrder:  # an older file, written in another order: gather in memory
        verdict = Verdict()
        views: dict[str, list[View]] = {}
        for path in paths:
            for identifier, view in _views(path):
                views.setdefault(identifier, []).append(view)
        for identifier, group in views.items():
            attacker.judge(identifier, group, published, verdict)
    return verdict
