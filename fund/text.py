"""Text that every file the fund writes can carry.

A control character, a bidirectional override or an invisible character in one post's
indicator name would break a fund-wide XLSX (openpyxl refuses C0 controls), an XML file
(XML 1.0 has no place for them) or an e-mail header, or make a text read differently from
what it holds. The services refuse them (fund.checks.ensure_text); every writer also passes
its texts through `printable`, for rows stored before the services refused them."""

from __future__ import annotations

import re

# C0 controls other than tab, line feed and carriage return; DEL and the C1 controls.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters).
_BIDI = "\u202a-\u202e\u2066-\u2069"
# Invisible: zero-width space, word joiner, byte-order mark; zero-width (non-)joiners only
# where they join nothing (Persian and Indic scripts need them between letters).
_INVISIBLE = "\u200b\u2060\ufeff"
_JOINERS = "\u200c\u200d"

FORBIDDEN = re.compile(f"[{_CONTROLS}{_BIDI}{_INVISIBLE}]")
LOOSE_JOINER = re.compile(f"(?<![^\\W\\d_])[{_JOINERS}]|[{_JOINERS}](?![^\\W\\d_])")
LINE_BREAKS = re.compile(r"[\r\n\t]+")


def first_forbidden(text: str) -> tuple[int, str] | None:
    """Position and character of the first character no file may carry, if any."""
    found = [match for match in (FORBIDDEN.search(text), LOOSE_JOINER.search(text)) if match]
    if not found:
        return None
    match = min(found, key=lambda m: m.start())
    return match.start(), match.group()


def printable(text: str | None, *, keep_newlines: bool = False) -> str:
    """The text without what no file may carry; on one line unless newlines are kept."""
    if not text:
        return ""
    text = LOOSE_JOINER.sub("", FORBIDDEN.sub("", str(text)))
    if not keep_newlines:
        text = LINE_BREAKS.sub(" ", text)
    return text
