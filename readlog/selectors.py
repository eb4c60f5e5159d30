"""What is confidential to read (R11), as text a response could contain: the code and name of
each post whose participation in a fund year from 2026 is not public, and the name of each
highly sensitive partner. One compiled pattern per process, rebuilt when those rows change
(a version in the shared cache, so every process rebuilds)."""

from __future__ import annotations

import contextlib
import html
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import ahocorasick
from django.apps import apps
from django.core.cache import cache

FIRST_CONFIDENTIAL_YEAR = 2026  # the reform letter: the list of participating posts from 2026
_VERSION_KEY = "readlog:terms-version"
_built: dict = {}


@dataclass
class Terms:
    pattern: object | None  # an Aho-Corasick automaton over every variant
    # variant as it appears in a response → (kind, public id, years, the post's pk)
    meaning: dict[str, tuple[str, str, tuple[int, ...], int]]
    # public ids of the posts that are not confidential participants (listed alongside, a page
    # of every post reveals no selection)
    other_posts: frozenset[str] = field(default_factory=frozenset)


def forget_terms(sender=None, instance=None, **_signal) -> None:
    """A change that may change what is confidential: every process rebuilds its pattern. A
    partner matters only when highly sensitive (one lowered stays a term until the next
    change: recorded once too often, never once too few)."""
    if getattr(sender, "__name__", "") == "Partner" and instance.sensitivity != "high":
        return
    from django.db import transaction

    def new_version() -> None:
        # A new random version once the change is committed: a process that rebuilt from
        # the rows before it cannot keep the new version with the old names, and a cache
        # that lost the key cannot bring back a version a process still holds.
        cache.set(_VERSION_KEY, uuid.uuid4().hex, timeout=None)

    new_version()
    with contextlib.suppress(transaction.TransactionManagementError):  # no transaction
        transaction.on_commit(new_version)


def terms() -> Terms:
    version = cache.get(_VERSION_KEY, 0)
    if _built.get("version") != version or "terms" not in _built:
        _built.update(version=version, terms=_build())
    return _built["terms"]


def _variants(text: str) -> set[str]:
    """A name as `readable` text holds it: lower case, single spaces."""
    return {" ".join(text.split()).lower()}


def readable(body: str, content_type: str) -> str:
    """A response as the reader sees it, for the search: a JSON body's strings (no escapes),
    a page's text with every entity resolved (named, decimal or hexadecimal), in lower case
    and with single spaces (the admin and the browsers collapse them too)."""
    if "json" in content_type:
        # Only an escape (\" \u00e9 \n) makes a JSON string differ from its text: without
        # one the body holds every string as it reads (the API writes UTF-8, not \u escapes),
        # and parsing it would cost a millisecond an API response for nothing.
        if "\\" in body:
            with contextlib.suppress(ValueError):
                body = "\n".join(_strings(json.loads(body)))
    elif "&" in body:
        body = html.unescape(body)
    return " ".join(body.lower().split())


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _build() -> Terms:
    Participation = apps.get_model("countries", "Participation")
    Post = apps.get_model("countries", "Post")
    Partner = apps.get_model("grants", "Partner")
    years_of: dict[str, set[int]] = defaultdict(set)
    names: dict[str, tuple[str, str, int]] = {}
    rows = Participation.objects.filter(
        selected=True, published=False, fund_year__year__gte=FIRST_CONFIDENTIAL_YEAR
    ).values_list("post__public_id", "post__code", "post__name", "fund_year__year", "post_id")
    for public_id, code, name, year, post_pk in rows:
        years_of[str(public_id)].add(year)
        names[str(public_id)] = (code, name, post_pk)
    meaning: dict[str, tuple[str, str, tuple[int, ...], int]] = {}
    for public_id, (code, name, post_pk) in names.items():
        years = tuple(sorted(years_of[public_id]))
        for text in (code, name):
            if len(text) >= 3:
                for variant in _variants(text):
                    meaning[variant] = ("participation", public_id, years, post_pk)
    others = set()
    for public_id, code, post_pk in Post.objects.values_list("public_id", "code", "pk"):
        if str(public_id) not in names:
            others.add(str(public_id))
            for variant in _variants(code):
                meaning.setdefault(variant, ("other_post", str(public_id), (), post_pk))
    sensitive = Partner.objects.filter(sensitivity="high").values_list(
        "public_id", "name", "post_id"
    )
    for public_id, name, post_pk in sensitive:
        if len(name) >= 3:
            for variant in _variants(name):
                meaning[variant] = ("partner", str(public_id), (), post_pk)
    if not meaning:
        return Terms(pattern=None, meaning={}, other_posts=frozenset(others))
    # Aho-Corasick (pyahocorasick): one pass over the text for all names at once, however
    # many; a regular expression of hundreds of alternatives costs a millisecond a page.
    automaton = ahocorasick.Automaton()
    for variant in meaning:
        automaton.add_word(variant, variant)
    automaton.make_automaton()
    return Terms(pattern=automaton, meaning=meaning, other_posts=frozenset(others))


@dataclass
class Found:
    participations: dict[str, set[int]] = field(default_factory=dict)  # post public id → years
    partners: set[str] = field(default_factory=set)
    other_posts: set[str] = field(default_factory=set)
    every_other: frozenset[str] = frozenset()  # every post that is not a participant

    def reveals_selection(self) -> bool:
        """Participants are shown, and not merely among every post there is."""
        every = self.every_other
        return bool(self.participations) and not (every and every <= self.other_posts)


def find(text: str, current: Terms | None = None, *, own_post: int | None = None) -> Found:
    """What the text shows. `own_post`: an embassy user's post, whose own participation and
    partners (which it entered itself) are not a confidential read for it."""
    found = Found()
    current = current or terms()
    found.every_other = current.other_posts
    if current.pattern is None or not text:
        return found
    matches = set()
    last = len(text) - 1
    for end, variant in current.pattern.iter(text):
        if variant in matches:  # a page names a post many times: check its edges once
            continue
        # A whole word: "DEMO-B1" is not found inside "DEMO-B10". (A word's character is
        # what \w is, str.isalnum, or "_" or "-": the method, not a regular expression,
        # as this runs for every occurrence on a page.)
        start = end - len(variant)
        if start >= 0:
            before = text[start]
            if before.isalnum() or before in "_-":
                continue
        if end < last:
            after = text[end + 1]
            if after.isalnum() or after in "_-":
                continue
        matches.add(variant)
    for match in matches:
        kind, public_id, years, post_pk = current.meaning[match]
        if own_post is not None and post_pk == own_post and kind != "other_post":
            continue
        if kind == "participation":
            found.participations.setdefault(public_id, set()).update(years)
        elif kind == "partner":
            found.partners.add(public_id)
        else:
            found.other_posts.add(public_id)
    return found
