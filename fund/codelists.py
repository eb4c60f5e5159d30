"""The vendored extract of the official IATI codelists and the OECD DAC region tree
(sources and licences in vendor/SOURCES.md). Every code the IATI export writes comes from here."""

import json
from functools import cache
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "vendor"
SCHEMA = VENDOR / "schema" / "iati-activities-schema.xsd"
UNSPECIFIED_REGION = "998"  # "Developing countries, unspecified": the widest region


@cache
def codelists() -> dict[str, dict[str, str]]:
    return json.loads((VENDOR / "codelists.json").read_text(encoding="utf-8"))["codelists"]


def codelist(name: str) -> dict[str, str]:
    """code → English name of one official codelist."""
    return codelists()[name]


def code(name: str, value: str) -> str:
    """A code, checked against its codelist: an unknown code is a programming error."""
    if value not in codelist(name):
        raise ValueError(f"{value!r} is not in the IATI {name} codelist")
    return value


@cache
def _regions() -> dict:
    return json.loads((VENDOR / "dac_regions.json").read_text(encoding="utf-8"))


def country_regions() -> dict[str, str]:
    """ISO 3166-1 alpha-2 → the narrowest OECD DAC region (IATI Region codelist)."""
    return _regions()["country_region"]


def wider_region(region: str) -> str | None:
    """The next wider region; None for the widest (998)."""
    if region == UNSPECIFIED_REGION:
        return None
    return _regions()["wider_region"].get(region, UNSPECIFIED_REGION)


def region_path(region: str) -> list[str]:
    """The region and every wider one up to 998, narrowest first."""
    path = []
    current: str | None = region
    while current is not None and current not in path:
        path.append(current)
        current = wider_region(current)
    return path
