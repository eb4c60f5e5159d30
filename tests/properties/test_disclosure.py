"""R11 under the stated attacker (docs/iati.md): Hypothesis builds worlds — posts in regions
and sub-regions (some covering a second country, some in a country without a DAC region),
confidentiality per year, priorities, partner types and clearance, projects across years —
and runs a sequence of monthly exports while posts join, leave, are made public and
confidential again, projects move into another year and posts cover more countries. After
each export the independent attacker reads every file published so far with the public facts
and must find no activity of a confidential participation standing for fewer than k posts.
(The export itself refuses such a file; here a refusal is a failure of the policy.)"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from countries.models import Participation
from fund.access import system_actor
from grants.models import (
    BudgetLine,
    FundYear,
    Partner,
    PartnerType,
    Project,
    ProjectStatus,
    Sensitivity,
)
from priorities.models import Priority
from reports.iati.attacker import check_files
from reports.iati.export import NothingToPublish
from reports.iati.facts import public_facts
from reports.iati.services import make_export
from reports.models import IatiExport
from tests.factories import PartnerFactory, PostFactory, country

# Real countries (so that full activities can name them) in several DAC regions and
# sub-regions, and one without a DAC region (CH: only 998 holds it).
COUNTRIES = ["KE", "UG", "TZ", "NG", "GH", "SN", "ZA", "EG", "IN", "BD", "CO", "PE", "VN", "CH"]
YEARS = (2026, 2027)
PRIORITIES = ["women_girls", "lgbtiq", "expression", "defenders_civic_space", "accountability"]
K = 3

post_spec = st.fixed_dictionaries(
    {
        "country": st.sampled_from(COUNTRIES),
        "covers": st.one_of(st.none(), st.sampled_from(COUNTRIES)),
        "selected": st.tuples(st.booleans(), st.booleans()),
        "public": st.tuples(st.booleans(), st.booleans()),
        "priority": st.sampled_from(PRIORITIES),
        "partners": st.lists(
            st.tuples(
                st.sampled_from(list(PartnerType.values)),
                st.sampled_from(list(Sensitivity.values)),
                st.booleans(),  # cleared by the ministry
                st.booleans(),  # in the covered country rather than the host country
            ),
            min_size=1,
            max_size=2,
        ),
        "projects": st.lists(
            st.tuples(
                st.sampled_from(YEARS),  # start year
                st.integers(0, 1),  # runs into the next year
                st.integers(1, 12),  # start month
                st.sampled_from(list(ProjectStatus.values)),
                st.integers(0, 1),  # which partner
                st.integers(1, 40),  # budget in EUR 5 000
            ),
            max_size=3,
        ),
    }
)
step = st.one_of(
    st.tuples(st.just("join"), st.integers(0, 99), st.sampled_from(YEARS)),
    st.tuples(st.just("leave"), st.integers(0, 99), st.sampled_from(YEARS)),
    st.tuples(st.just("publish"), st.integers(0, 99), st.sampled_from(YEARS)),
    st.tuples(st.just("conceal"), st.integers(0, 99), st.sampled_from(YEARS)),
    st.tuples(st.just("move"), st.integers(0, 99), st.sampled_from(YEARS)),
    st.tuples(st.just("cover"), st.integers(0, 99), st.sampled_from(COUNTRIES)),
    st.tuples(st.just("export"), st.sampled_from([None, 2026, 2027]), st.just(0)),
)


def build(posts_spec):
    years = {
        year: FundYear.objects.get_or_create(
            year=year,
            defaults={
                "envelope": Decimal("10000000.00"),
                "plan_submission_deadline": date(year - 1, 11, 15),
            },
        )[0]
        for year in YEARS
    }
    priorities = {p.code: p for p in Priority.objects.all()}
    posts = []
    for index, spec in enumerate(posts_spec):
        post = PostFactory(code=f"H-{index:02d}", host_country=country(spec["country"]))
        if spec["covers"] and spec["covers"] != spec["country"]:
            post.countries_covered.add(country(spec["covers"]))
        for year_index, year in enumerate(YEARS):
            selected = spec["selected"][year_index]
            Participation.objects.create(
                post=post,
                fund_year=years[year],
                selected=selected,
                published=selected and spec["public"][year_index],
            )
        partners = []
        for n, (kind, sensitivity, cleared, abroad) in enumerate(spec["partners"]):
            where = spec["covers"] if abroad and spec["covers"] else spec["country"]
            partners.append(
                PartnerFactory(
                    post=post,
                    name=f"Partner {index}-{n}",
                    partner_type=kind,
                    sensitivity=sensitivity,
                    cleared_for_publication=cleared,
                    country=country(where),
                )
            )
        for n, (start_year, longer, month, status, which, money) in enumerate(spec["projects"]):
            end_year = start_year + longer
            project = Project.objects.create(
                post=post,
                partner=partners[which % len(partners)],
                priority=priorities[spec["priority"]],
                title=f"Project {index}-{n}",
                start_date=date(start_year, month, 1),
                end_date=date(end_year, 12, 31),
                status=status,
            )
            for year in range(start_year, end_year + 1):
                BudgetLine.objects.create(
                    project=project, year=year, amount=Decimal(money * 5000) + Decimal("0.37")
                )
        posts.append(post)
    # The ministry cleared those partners after their projects' texts were written.
    Partner.objects.filter(cleared_for_publication=True).update(cleared_at=timezone.now())
    return posts, years


def apply(step_, posts, years):
    kind, which, year = step_
    if not posts or kind == "export":
        return
    if kind == "move":  # a project's start moves into another year
        projects = list(Project.objects.order_by("pk"))
        if projects:
            project = projects[which % len(projects)]
            project.start_date = date(year, 1 if year > project.start_date.year else 12, 1)
            project.end_date = max(project.end_date, date(year, 12, 31))
            project.save()
        return
    if kind == "cover":  # a post's accreditation grows
        posts[which % len(posts)].countries_covered.add(country(year))
        return
    participation = Participation.objects.get(post=posts[which % len(posts)], fund_year__year=year)
    if kind == "join":
        participation.selected = True
    elif kind == "leave":
        participation.selected = False
        participation.published = False
    elif kind == "publish":
        participation.published = participation.selected
    elif kind == "conceal":
        participation.published = False
    participation.save()  # through the model: its history is what the attacker may know


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    posts_spec=st.lists(post_spec, min_size=2, max_size=10),
    steps=st.lists(step, min_size=1, max_size=6),
)
def test_no_file_of_any_sequence_narrows_an_activity_below_k_R11(
    posts_spec, steps, tmp_path_factory
):
    media = tmp_path_factory.mktemp("media")
    # The attacker holds every file ever published: keep them all.
    kept = override_settings(IATI_REGION_MIN_POSTS=K, MEDIA_ROOT=media, IATI_EXPORTS_KEPT=100)
    with kept, transaction.atomic():
        posts, years = build(posts_spec)
        actor = system_actor("tasks")
        for step_ in [*steps, ("export", None, 0)]:
            apply(step_, posts, years)
            if step_[0] != "export":
                continue
            try:
                make_export(actor=actor, year=step_[1])
            except NothingToPublish:
                continue
            files = [
                export.file.path
                for export in IatiExport.objects.filter(status="done").order_by("pk")
            ]
            verdict = check_files(files, public_facts(), k=K)
            assert not verdict.failures, verdict.failures
            event(f"files read together: {min(len(files), 3)}+")
            event(
                "an activity of a confidential post checked" if verdict.smallest else "all public"
            )
        transaction.set_rollback(True)
