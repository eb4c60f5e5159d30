"""Text that every file the fund writes can carry.

A control character, a bidirectional override or an invisible character in one post's
indicator name would break a fund-wide XLSX (openpyxl refuses C0 controls), an XML file
(XML 1.0 has no place for them) or an e-mail header, or make a text read differently from
what it holds. The services refuse them (fund.checks.ensure_text); every writer also passes
its texts through `printable`, for rows stored before the services refused them."""

from __future__ import annotations

import re
import unicodedata

# C0 controls other than tab, line feed and carriage return; DEL and the C1 controls.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters).
_BIDI = "\u202a-\u202e\u2066-\u2069"
# Invisible: zero-width space, word joiner, byte-order mark. The zero-width (non-)joiners
# only where they join nothing: Persian, Indic scripts (after a virama, a combining mark)
# and emoji sequences need them between their characters.
_INVISIBLE = "\u200b\u2060\ufeff"
JOINERS = "\u200c\u200d"

FORBIDDEN = re.compile(f"[{_CONTROLS}{_BIDI}{_INVISIBLE}]")
LINE_BREAKS = re.compile(r"[\r\n\t]+")
_JOINABLE = ("L", "M", "So", "Sk")  # letters, combining marks, symbols (emoji), modifiers


def _joinable(character: str) -> bool:
    return character == "\ufe0f" or unicodedata.category(character).startswith(_JOINABLE)


def _loose_joiners(text: str) -> list[int]:
    """Positions of joiners that do not stand between two joinable characters."""
    return [
        index
        for index, character in enumerate(text)
        if character in JOINERS
        and not (
            index > 0
            and _joinable(text[index - 1])
            and (
                (index < len(text) - 1 and _joinable(text[index + 1]))
                # A joiner after a virama may end a word (Malayalam's chillu letters).
                or unicodedata.category(text[index - 1]).startswith("M")
            )
        )
    ]


def first_forbidden(text: str) -> tuple[int, str] | None:
    """Position and character of the first character no file may carry, if any."""
    found = FORBIDDEN.search(text)
    positions = ([found.start()] if found else []) + _loose_joiners(text)[:1]
    if not positions:
        return None
    position = min(positions)
    return position, text[position]


def printable(text: str | None, *, keep_newlines: bool = False) -> str:
    """The text without what no file may carry; on one line unless newlines are kept."""
    if not text:
        return ""
    text = FORBIDDEN.sub("", str(text))
    loose = set(_loose_joiners(text))
    if loose:
        text = "".join(c for index, c in enumerate(text) if index not in loose)
    if not keep_newlines:
        text = LINE_BREAKS.sub(" ", text)
    return text
