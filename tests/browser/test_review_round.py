"""A reviewer's whole review round in the Dutch admin, in a real browser (headless Chromium
driven by Selenium): log in, return one plan with a comment, approve another, and find both
steps in the plans' history (R10). Screenshots of the dashboard, the review page and a refusal
go to a temporary folder, so that a test run leaves the work tree as it was; to refresh the
README's pictures, `SCREENSHOTS_DIR=docs/screenshots sh scripts/test.sh tests/browser`."""

import os
import shutil
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from fund.access import ensure_roles
from grants import services
from grants.models import FundYear, PlanStatus
from tests.factories import StaffFactory, UserFactory
from tests.helpers import make_participant, make_plan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "mrf-screenshots"
)

# Every browser test: skipped without Chromium, on a live server's real transactions.
BROWSER_TEST = [
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
pytestmark = BROWSER_TEST


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        "--lang=nl",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "nl"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture
def round_of_plans():
    ensure_roles()
    actor = StaffFactory(username="browser-builder")
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("5000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    plans = []
    for _index in range(2):
        post = make_participant(actor, year)
        plan = make_plan(actor, post, year, priorities=(("women_girls", "900000.00"),))
        services.plan_submit(actor=actor, plan=plan)
        plans.append(plan)
    reviewer = UserFactory(username="beoordelaar-1", is_staff=True, password="Beoordelen-2026!")
    reviewer.groups.add(Group.objects.get(name="beoordelaar"))
    return plans


def see(driver, text: str, timeout: float = 10) -> None:
    """Wait until the page shows the text (a click's navigation takes its time)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: text in d.page_source)


def shoot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def test_a_reviewer_returns_one_plan_and_approves_another_in_dutch_R10(
    live_server, browser, round_of_plans
):
    from selenium.webdriver.common.by import By

    returned, approved = round_of_plans
    browser.get(f"{live_server.url}/")  # the start page asks for a login first
    assert "Aanmelden" in browser.page_source or "Inloggen" in browser.page_source
    browser.find_element(By.NAME, "username").send_keys("beoordelaar-1")
    browser.find_element(By.NAME, "password").send_keys("Beoordelen-2026!")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
    see(browser, "Fondsjaar in één oogopslag")
    shoot(browser, "dashboard")

    # A return without a comment is refused (R10), in Dutch.
    browser.get(f"{live_server.url}/admin/grants/annualplan/{returned.pk}/review/")
    see(browser, "Beoordeling van")
    shoot(browser, "review")
    browser.find_element(By.CSS_SELECTOR, "button[value=return]").click()
    see(browser, "[R10]")
    shoot(browser, "refusal")

    browser.find_element(By.NAME, "comment").send_keys("Graag de partners toelichten.")
    browser.find_element(By.CSS_SELECTOR, "button[value=return]").click()
    see(browser, "Teruggestuurd")

    browser.get(f"{live_server.url}/admin/grants/annualplan/{approved.pk}/review/")
    browser.find_element(By.CSS_SELECTOR, "button[value=approve]").click()
    see(browser, "Goedgekeurd")

    returned.refresh_from_db()
    approved.refresh_from_db()
    assert (returned.status, approved.status) == (PlanStatus.RETURNED, PlanStatus.APPROVED)
    # The history shows both steps, with who and why.
    browser.get(f"{live_server.url}/admin/grants/annualplan/{returned.pk}/history/")
    see(browser, "beoordelaar-1")
    browser.get(f"{live_server.url}/admin/grants/annualplan/{returned.pk}/review/")
    see(browser, "Graag de partners toelichten.")
    browser.get(f"{live_server.url}/admin/grants/annualplan/{approved.pk}/history/")
    see(browser, "beoordelaar-1")
