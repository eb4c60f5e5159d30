import pytest
from django.conf import settings
from django.utils import translation

from .factories import FundYearFactory, StaffFactory
from .helpers import make_participant, make_plan


@pytest.fixture
def actor(db):
    return StaffFactory(username="ministry")


@pytest.fixture
def year2025(db):
    return FundYearFactory(year=2025)


@pytest.fixture
def year2026(db):
    return FundYearFactory(year=2026)


@pytest.fixture
def year2027(db):
    return FundYearFactory(year=2027)


@pytest.fixture
def participant(actor, year2026):
    return make_participant(actor, year2026)


@pytest.fixture
def plan(actor, participant, year2026):
    """A 2026 draft plan choosing women_girls with € 400,000 of a € 1,000,000 allocation."""
    return make_plan(actor, participant, year2026)


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the default language (Dutch): a request in another language
    leaves it active in the thread, as Django's LocaleMiddleware does."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
