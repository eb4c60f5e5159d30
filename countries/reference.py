"""Country names from django-countries' ISO 3166-1 data and its Dutch translations."""

from django.utils import translation
from django_countries.data import COUNTRIES

from fund.codelists import country_regions


def load_countries(country_model) -> int:
    """Create or update every ISO 3166-1 alpha-2 country with Dutch and English names."""
    count = 0
    for code, lazy_name in COUNTRIES.items():
        with translation.override("en"):
            name_en = str(lazy_name)
        with translation.override("nl"):
            name_nl = str(lazy_name)
        country_model.objects.update_or_create(
            code=code, defaults={"name_en": name_en, "name_nl": name_nl}
        )
        count += 1
    return count


def set_dac_regions(country_model) -> int:
    """Each country's narrowest OECD DAC region, from the vendored IATI region data; countries
    that receive no development aid (not on the DAC list) have none."""
    updated = 0
    for code, region in country_regions().items():
        updated += country_model.objects.filter(code=code).update(dac_region=region)
    return updated
