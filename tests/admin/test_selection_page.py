"""The selection page (R1) shows one fund year at a time — by default the year its running
count is of — and every list's action checkbox is Django's markup, written without its
widget templates."""

from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html

from countries import services as country_services
from countries.models import Participation, Post
from fund.access import ensure_roles, system_actor
from fund.admin import PlainCheckbox
from grants.models import FundYear
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:countries_participation_changelist"


@pytest.fixture
def years():
    """Candidates in 2026 and 2027 (reformed years) and 2025 (before the reform)."""
    ensure_roles()
    seed = system_actor("seed")
    made = {}
    for year, names in ((2025, ["Oud"]), (2026, ["Alfa", "Beta"]), (2027, ["Gamma"])):
        fund_year = FundYear.objects.create(
            year=year,
            envelope=Decimal("9000000.00"),
            plan_submission_deadline=date(year - 1, 11, 15),
        )
        made[year] = fund_year
        for name in names:
            post = PostFactory(name=f"Ambassade {name}")
            if year < 2026:  # history, as its import loads it (R7)
                Participation.objects.create(post=post, fund_year=fund_year, selected=True)
                continue
            country_services.participation_set(
                actor=seed, post=post, fund_year=fund_year, selected=name != "Beta"
            )
    return made


@pytest.fixture
def manager(client):
    user = UserFactory(username="fb-selectie", is_staff=True)
    user.groups.add(Group.objects.get(name="fondsbeheerder"))
    client.force_login(user)
    return client


def shown(response) -> list[tuple[int, str]]:
    return sorted((p.fund_year.year, p.post.name) for p in response.context["cl"].result_list)


def test_the_selection_page_shows_the_year_its_running_count_is_of_R1(years, manager):
    page = manager.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert shown(page) == [(2027, "Ambassade Gamma")]
    assert page.context["selection_year"].year == 2027
    html = " ".join(page.content.decode().split())
    # The filter names the default year as chosen, and offers every year and all of them.
    assert f'<li class="selected"> <a href="?fund_year={years[2027].pk}">2027</a></li>' in html
    assert f'<li> <a href="?fund_year={years[2026].pk}">2026</a></li>' in html
    assert '<li> <a href="?fund_year=all">' in html


def test_another_year_or_all_years_are_one_click_away(years, manager):
    other = manager.get(reverse(CHANGELIST), {"fund_year": years[2026].pk})
    assert shown(other) == [(2026, "Ambassade Alfa"), (2026, "Ambassade Beta")]
    assert other.context["selection_year"].year == 2026
    every = manager.get(reverse(CHANGELIST), {"fund_year": "all"})
    assert [year for year, _ in shown(every)] == [2025, 2026, 2026, 2027]
    # Combined with another filter: the year stays chosen.
    left_out = manager.get(reverse(CHANGELIST), {"fund_year": years[2026].pk, "selected__exact": 0})
    assert shown(left_out) == [(2026, "Ambassade Beta")]


@pytest.mark.parametrize("value", ["2026'", "²", "-1"])
def test_a_year_that_is_no_number_is_refused_as_any_bad_filter(years, manager, value):
    page = manager.get(reverse(CHANGELIST), {"fund_year": value})
    assert page.status_code == 302 and page["Location"].endswith("?e=1")


def test_a_link_with_djangos_former_year_filter_shows_that_year(years, manager):
    old = manager.get(reverse(CHANGELIST), {"fund_year__id__exact": years[2026].pk, "q": "Beta"})
    assert old.status_code == 302
    page = manager.get(old["Location"])
    assert shown(page) == [(2026, "Ambassade Beta")]


def test_without_a_reformed_year_the_page_shows_every_year(manager):
    ensure_roles()
    old = FundYear.objects.create(
        year=2025, envelope=Decimal("1.00"), plan_submission_deadline=date(2024, 11, 15)
    )
    Participation.objects.create(
        post=PostFactory(name="Ambassade Oud"), fund_year=old, selected=True
    )  # history, as its import loads it (R7)
    page = manager.get(reverse(CHANGELIST))
    assert shown(page) == [(2025, "Ambassade Oud")]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_action_checkbox_is_djangos_markup(language):
    """PlainCheckbox writes what Django's CheckboxInput renders, also for a name that HTML
    must escape."""
    awkward = PostFactory(name='Ambassade "O\'Brien" <b>&</b>')
    with translation.override(language):
        django_markup = forms.CheckboxInput(
            {
                "class": "action-select",
                "aria-label": format_html(
                    translation.gettext("Select this object for an action - {}"), str(awkward)
                ),
            },
            lambda value: False,
        ).render(helpers.ACTION_CHECKBOX_NAME, str(awkward.pk))
        post_admin = admin.site.get_model_admin(Post)
        ours = post_admin.action_checkbox(awkward)
    assert isinstance(post_admin, PlainCheckbox)  # not merely Django's own method
    assert ours == django_markup
    assert "&lt;b&gt;" in ours and "<b>" not in ours
