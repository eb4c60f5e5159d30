"""Texts every file can carry (fund.text, fund.checks.ensure_text): control, bidi-override and
stray invisible characters refused with the field and position; the scripts that need
joiners keep them."""

import pytest

from fund.checks import FundRuleError, ensure_text
from fund.text import printable


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("Aantal \x01 personen", 8),
        ("Rechten \u202evoor\u202c allen", 9),
        ("zero\u200bwidth", 5),
        ("\ufeffBOM", 1),
        ("a\u200d", 2),
        ("DEL\x7f", 4),
    ],
)
def test_a_text_no_file_can_carry_is_refused_with_its_field_and_position(text, position):
    with pytest.raises(FundRuleError) as refused:
        ensure_text(text, field="name")
    assert refused.value.field == "name" and refused.value.rule == "invalid"
    assert f"positie {position}" in refused.value.formatted_message  # the fund speaks Dutch


@pytest.mark.parametrize(
    "text",
    [
        "Regel één\r\nRegel twee\tmet tab",
        "می\u200cخواهم",  # Persian: a non-joiner between letters
        "مَ\u200cخ",  # … after a diacritic
        "क्\u200dष",  # Devanagari: a joiner after a virama
        "ന്\u200d",  # Malayalam chillu at the end of a word
        "👨\u200d👩\u200d👧 🏳️\u200d🌈",  # emoji sequences
        "Droits de l'homme — ‘quoted’ «guillemets»",
    ],
)
def test_texts_of_the_worlds_scripts_pass(text):
    assert ensure_text(text, field="name") == text.strip()
    assert printable(text, keep_newlines=True) == text


def test_printable_drops_what_older_rows_hold():
    assert printable("Aantal \x01 per\u202esonen\n") == "Aantal  personen "
