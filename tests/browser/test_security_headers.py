"""The admin and the API docs work under the Content-Security-Policy (issue: production): in
Chromium, no page of a fund manager's round and neither Swagger UI nor Redoc is refused a
script, a style, an image, a font or a worker (the browser's console names every refusal),
and each page renders what it is for."""

import pytest
from django.contrib.auth.models import Group

from fund.access import ensure_roles
from tests.browser.test_review_round import (
    BROWSER_TEST,
    CHROMEDRIVER,
    CHROMIUM,
    round_of_plans,
    see,
)
from tests.factories import UserFactory

pytestmark = BROWSER_TEST
__all__ = ["round_of_plans"]  # the fixture, used below
PASSWORD = "Fondsbeheer-2026!"


@pytest.fixture
def console_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--no-first-run", "--window-size=1400,1000",
                 "--lang=nl"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def refusals(driver) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if ("Content Security Policy" in entry["message"] or "Refused to" in entry["message"])
    ]


def test_the_admin_and_the_api_docs_work_under_the_content_security_policy(
    live_server, console_browser, round_of_plans
):
    from selenium.webdriver.common.by import By

    ensure_roles()
    # A superuser: the schedules' admin (django-celery-beat) is theirs alone.
    manager = UserFactory(username="fb-csp", is_staff=True, is_superuser=True, password=PASSWORD)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    driver, base = console_browser, live_server.url

    driver.get(f"{base}/admin/login/")
    driver.find_element(By.NAME, "username").send_keys("fb-csp")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    see(driver, "fb-csp")
    pages = {
        "/admin/": "Mensenrechtenfonds",
        "/admin/dashboard/": "2026",
        "/admin/grants/annualplan/": "2026",
        f"/admin/grants/annualplan/{round_of_plans[0].pk}/review/": "2026",
        "/admin/grants/project/": "Project",
        "/admin/countries/participation/": "2026",
        "/admin/reports/iatiexport/": "IATI",
    }
    from django_celery_beat.models import PeriodicTask

    schedule = PeriodicTask.objects.filter(crontab__isnull=False).first()
    pages[f"/admin/django_celery_beat/periodictask/{schedule.pk}/change/"] = schedule.name
    pages["/admin/countries/participation/export/"] = "select-toggle"
    for path, text in pages.items():
        driver.get(f"{base}{path}")
        try:
            see(driver, text)
        except Exception as error:
            raise AssertionError(f"{path}: {text!r} not shown") from error
        assert refusals(driver) == [], path

    # The library's scripts still work from files: the export's "select all" box, and the
    # schedule form's crontab in words.
    driver.get(f"{base}/admin/countries/participation/export/")
    toggle = driver.find_element(By.CSS_SELECTOR, "input.select-toggle")
    fields = driver.find_elements(By.CSS_SELECTOR, "input[type=checkbox][name*='_']")
    assert fields and all(box.is_selected() for box in fields if box != toggle)
    toggle.click()
    assert not any(box.is_selected() for box in fields if box != toggle)
    assert refusals(driver) == [], "export: select all"

    driver.get(f"{base}/api/docs/")
    see(driver, "Mensenrechtenfonds — embassy API", timeout=20)  # drawn by Swagger UI's script
    assert driver.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"), "no operations drawn"
    assert refusals(driver) == [], "/api/docs/"

    driver.get(f"{base}/api/redoc/")
    see(driver, "Mensenrechtenfonds — embassy API", timeout=20)  # drawn by Redoc's script
    see(driver, "/api/v1/plans/", timeout=20)
    assert refusals(driver) == [], "/api/redoc/"  # its logo too is the app's own
