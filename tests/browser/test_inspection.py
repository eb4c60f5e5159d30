"""Vertrouwelijke inzage in a real browser (R11): a fund manager grants it in the Dutch admin
and gets the one-time link; the person opens it and sees the year's participating posts under
a watermark with their name and the time; nothing else opens; revoking and expiry close it."""

import re
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from fund.access import ensure_roles, system_actor
from grants.models import FundYear
from readlog import inspection as inspections
from readlog.models import Door, Inspection, Read
from tests.browser.test_review_round import BROWSER_TEST, browser, see
from tests.factories import UserFactory
from tests.helpers import make_participant

pytestmark = BROWSER_TEST
__all__ = ["browser"]  # the fixture
PASSWORD = "Fondsbeheer-2026!"


def test_an_inspection_is_granted_opened_once_revoked_and_expires_R11(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    ensure_roles()
    year = FundYear.objects.create(
        year=2026, envelope=Decimal("9000000.00"), plan_submission_deadline=date(2025, 11, 15)
    )
    posts = [make_participant(system_actor("seed"), year) for _ in range(3)]
    manager = UserFactory(username="fb-inzage", is_staff=True, password=PASSWORD)
    manager.groups.add(Group.objects.get(name="fondsbeheerder"))
    base = live_server.url

    # The fund manager grants it in the admin and is shown the link once.
    browser.get(f"{base}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("fb-inzage")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    see(browser, "fb-inzage")
    browser.get(f"{base}/admin/readlog/inspection/add/")
    browser.find_element(By.NAME, "person_name").send_keys("mr. A. de Vries")
    browser.find_element(By.NAME, "person_role").send_keys("Griffier Tweede Kamer")
    Select(browser.find_element(By.NAME, "fund_year")).select_by_visible_text(str(year))
    hours = browser.find_element(By.NAME, "hours")
    hours.clear()
    hours.send_keys("1")
    browser.find_element(By.NAME, "_save").click()
    see(browser, "/inzage/")
    [link] = re.findall(r"https?://[^\s<\"]+/inzage/[\w-]+/", browser.page_source)
    link = base + link[link.index("/inzage/") :]
    browser.delete_all_cookies()

    # The person: a button first (a link previewer only looks), then the list, under their
    # name and the time, and nothing else.
    browser.get(link)
    see(browser, "Inzage openen")
    browser.find_element(By.NAME, "open").click()
    see(browser, "Deelnemende posten, fondsjaar 2026")
    watermark = browser.find_element(By.CSS_SELECTOR, ".watermark").get_attribute("textContent")
    assert "mr. A. de Vries" in watermark and timezone.localtime().strftime("%Y") in watermark
    for post in posts:
        assert post.name in browser.page_source
    assert Read.objects.filter(door=Door.INSPECTION).count() == 1
    browser.get(f"{base}/admin/")
    assert "fb-inzage" not in browser.page_source and "Deelnemende" not in browser.page_source
    browser.get(f"{base}/inzage/")
    see(browser, "Deelnemende posten")
    assert Read.objects.filter(door=Door.INSPECTION).count() == 2  # each view

    # Revoked: the next page closes it, and the link does not open it again.
    inspection = Inspection.objects.get()
    inspections.revoke(actor=manager, inspection=inspection)
    browser.get(f"{base}/inzage/")  # the account is switched off: signed out, the list gone
    assert "Deelnemende posten" not in browser.page_source
    assert "mr. A. de Vries" not in browser.page_source
    browser.get(link)
    see(browser, "Deze inzage is niet open")

    # Expired: a second inspection closes at the end of its window.
    later, token = inspections.grant(
        actor=manager, person_name="mw. B. Jansen", person_role="Lid Tweede Kamer",
        fund_year=year, hours=1,
    )  # fmt: skip
    browser.delete_all_cookies()
    browser.get(f"{base}/inzage/{token}/")
    browser.find_element(By.NAME, "open").click()
    see(browser, "mw. B. Jansen")
    now = timezone.now()
    Inspection.objects.filter(pk=later.pk).update(starts_at=now - timedelta(hours=1),
                                                   ends_at=now - timedelta(seconds=1))  # fmt: skip
    browser.get(f"{base}/inzage/")
    see(browser, "Deze inzage is niet open")
