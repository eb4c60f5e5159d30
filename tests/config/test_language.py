"""Dutch throughout, English available: the admin, the rule errors and the API speak the
user's language; the compiled catalogue ships with the repository."""

from pathlib import Path

import pytest
from django.utils import translation

from fund.checks import FundRuleError, ensure_year_writable
from tests.factories import StaffFactory

ROOT = Path(__file__).resolve().parents[2]


def test_the_compiled_dutch_catalogue_is_in_the_repository():
    """The quick start needs no GNU gettext: the .mo file is committed (CI checks it is
    current and complete)."""
    assert (ROOT / "locale/nl/LC_MESSAGES/django.mo").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("language", "expected"),
    [("nl", "alleen-lezen geschiedenis"), ("en", "read-only history")],
)
def test_a_rule_error_speaks_the_active_language_R7(language, expected):
    with translation.override(language):
        with pytest.raises(FundRuleError) as refusal:
            ensure_year_writable(2025)
        message = str(refusal.value)  # messages are lazy: rendered in the active language
    assert refusal.value.rule == "R7"
    assert expected in message.lower()


@pytest.mark.django_db
def test_the_admin_is_dutch_with_an_english_switch(client):
    client.force_login(StaffFactory(username="taal"))
    dutch = client.get("/admin/").content.decode()
    assert "Jaarplannen" in dutch
    assert "Annual plans" not in dutch
    assert 'name="language"' in dutch
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    english = client.get("/admin/").content.decode()
    assert "Annual plans" in english


@pytest.mark.django_db
def test_a_plan_status_and_choices_are_dutch(client):
    client.force_login(StaffFactory(username="taal2"))
    page = client.get("/admin/grants/annualplan/").content.decode()
    assert "Ingediend" in page or "ingediend" in page
