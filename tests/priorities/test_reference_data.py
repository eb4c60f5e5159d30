"""Reference data loaded by migration: the closed 5+1 list (R3), results framework (R13)."""

import pytest
from django.db import IntegrityError, transaction

from countries.models import Country
from priorities.models import IntendedResult, Priority, Theme

pytestmark = pytest.mark.django_db


def test_exactly_the_5_plus_1_priorities_exist_R3():
    codes = list(Priority.objects.values_list("code", flat=True))
    assert codes == [
        "women_girls",
        "lgbtiq",
        "religion_belief",
        "expression",
        "defenders_civic_space",
        "accountability",
    ]
    plus_one = Priority.objects.get(is_plus_one=True)
    assert plus_one.code == "accountability"
    assert plus_one.theme == Theme.INTERNATIONAL_LEGAL_ORDER
    assert Priority.objects.get(code="lgbtiq").name_nl == "Gelijke rechten voor lhbtiq+-personen"


def test_database_refuses_a_seventh_priority_R3():
    with pytest.raises(IntegrityError), transaction.atomic():
        Priority.objects.create(
            code="climate", name_nl="Klimaat", name_en="Climate", theme="human_rights", position=7
        )


def test_every_priority_has_its_intended_results_R13():
    for priority in Priority.objects.all():
        assert priority.intended_results.count() == 3, priority.code
    result = IntendedResult.objects.get(code="expression.protection")
    assert result.text_nl == "Journalisten en mediawerkers in nood worden beschermd"


def test_countries_come_from_iso_3166_with_dutch_and_english_names():
    assert Country.objects.count() >= 249
    germany = Country.objects.get(code="DE")
    assert (germany.name_nl, germany.name_en) == ("Duitsland", "Germany")
