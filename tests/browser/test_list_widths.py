"""Every list fits 1400 px (issue 20): each changelist of the admin (read from the admin's
registry, so a list added later is measured by itself) is opened by a fund manager in a
real browser 1400 px wide on the demo world, and its table must end inside the window, so
that no deciding column (Geselecteerd, the score, the annual report) is off-screen; every
other page of the admin without an object in its address (the dashboard, the overviews, the
forms) must not be wider than the window either."""

from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from tests import crawl
from tests.browser.test_review_round import BROWSER_TEST, browser, see, shoot
from tests.factories import UserFactory

pytestmark = BROWSER_TEST
__all__ = ["browser"]  # the fixture
PASSWORD = "Breedte-2026-lijst!"
WIDTH = 1400

# Whether the list's table overflows its box (the box scrolls sideways when it does, and
# what is beyond its edge is off-screen), and which table cells stick out.
MEASURE = """
const box = document.querySelector('#changelist .results') || document.body;
const edge = box.getBoundingClientRect().right;
const cells = [...document.querySelectorAll('#result_list th, #result_list td')]
  .filter(cell => cell.getBoundingClientRect().right > edge + 1)
  .map(cell => cell.textContent.trim().slice(0, 30));
return {window: window.innerWidth, page: document.documentElement.scrollWidth,
        overflow: box.scrollWidth - box.clientWidth, outside: [...new Set(cells)].slice(0, 8)};
"""


def changelists() -> list[str]:
    return sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    )


def other_pages() -> list[str]:
    """The admin's other pages without an object in their address (the dashboard, the
    overviews, the add forms), from the URL conf: each must fit the window too."""
    lists = set(changelists())
    return [url for url in crawl.admin_urls(lambda model_admin: [])
            if url not in lists and "/export/" not in url and "logout" not in url]  # fmt: skip


def test_every_list_fits_1400_pixels(live_server, browser):
    from selenium.webdriver.common.by import By

    call_command("seed_demo", verbosity=0)
    manager = UserFactory(username="fb-breedte", is_staff=True, password=PASSWORD)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    browser.set_window_size(WIDTH, 1000)
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("fb-breedte")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    see(browser, "fb-breedte")
    too_wide, measured = {}, 0
    for url in changelists():
        browser.get(live_server.url + url)
        if "result_list" not in browser.page_source:
            continue  # a list the role may not open, or one without rows
        measured += 1
        figures = browser.execute_script(MEASURE)
        if figures["page"] > figures["window"] or figures["overflow"] > 0:
            too_wide[url] = figures
            shoot(browser, "too-wide-" + url.strip("/").replace("/", "-"))  # to look at
    assert measured > 10  # the registry was walked and the lists have rows
    others = other_pages()
    assert len(others) > 10 and "/admin/dashboard/" in others
    for url in others:
        browser.get(live_server.url + url)
        figures = browser.execute_script(MEASURE)
        if figures["page"] > figures["window"]:
            too_wide[url] = figures
            shoot(browser, "too-wide-" + url.strip("/").replace("/", "-"))
    assert too_wide == {}
