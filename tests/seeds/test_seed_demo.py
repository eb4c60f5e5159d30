"""seed_demo builds the labelled demo world once, through the services, with every rule kept."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from countries.models import Participation, Post, PostKind
from fund.checks import MAX_PRIORITIES_PER_PLAN
from grants import selectors
from grants.models import (
    Allocation,
    AnnualPlan,
    BudgetLine,
    Disbursement,
    FundYear,
    IndicatorValue,
    Partner,
    PartnerType,
    PlanPriority,
    PlanStatus,
    Project,
)
from seeds import demo

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return {
        model.__name__: model.objects.count()
        for model in (
            Post,
            Participation,
            Allocation,
            AnnualPlan,
            PlanPriority,
            Partner,
            Project,
            BudgetLine,
            Disbursement,
            IndicatorValue,
        )
    }


@pytest.fixture(scope="module")
def demo_world_once(django_db_setup, django_db_blocker):
    """Seed once for the module inside a transaction that is rolled back at its end.

    Each test runs in a savepoint within it (as Django's TestCase.setUpTestData does), so
    tests see the demo world, may change it, and leave it as they found it.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        output = seed()
    yield output
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def demo_world(demo_world_once, db):
    return demo_world_once


def test_seed_builds_the_demo_world_and_prints_the_login(demo_world):
    assert "Demowereld gemaakt" in demo_world
    assert "gebruikersnaam 'admin'" in demo_world
    assert demo.DEMO_ADMIN_PASSWORD in demo_world
    assert set(FundYear.objects.values_list("year", flat=True)) == {2025, 2026, 2027, 2028}
    assert all(post.is_demo for post in Post.objects.all())


def test_seed_has_31_bilateral_and_5_multilateral_participants_in_2026_R1(demo_world):
    selected = Participation.objects.filter(fund_year__year=2026, selected=True)
    codes = sorted(selected.values_list("post__code", flat=True))
    assert codes == [f"DEMO-B{i:02d}" for i in range(1, 32)] + [
        f"DEMO-M{i:02d}" for i in range(1, 6)
    ]
    assert selected.filter(post__kind=PostKind.BILATERAL).count() == 31
    assert selected.filter(post__kind=PostKind.MULTILATERAL).count() == 5
    phased_out = Post.objects.filter(code__startswith="DEMO-X")
    assert phased_out.exists()
    for post in phased_out:
        assert post.participations.get(fund_year__year=2025).selected
        assert not post.participations.filter(fund_year__year__gte=2026, selected=True).exists()
        assert not post.allocations.filter(fund_year__year__gte=2026).exists()  # R6


def test_seed_covers_every_plan_status_and_partner_type_R8_R10(demo_world):
    assert set(AnnualPlan.objects.values_list("status", flat=True)) == set(PlanStatus.values)
    assert set(Partner.objects.values_list("partner_type", flat=True)) == set(PartnerType.values)
    assert Project.objects.filter(end_date__year__gt=2026, start_date__year=2026).exists()  # R9


def test_seed_respects_the_money_and_priority_rules_R2_R4_R5(demo_world):
    for row in selectors.money_overview():
        assert row.planned + row.committed <= row.amount, row
        assert row.in_plan <= row.amount, row
    for year in FundYear.objects.all():
        assert sum(a.amount for a in year.allocations.all()) <= year.envelope
    for plan in AnnualPlan.objects.all():
        assert plan.plan_priorities.count() <= MAX_PRIORITIES_PER_PLAN
    for line in BudgetLine.objects.filter(year__gte=2026).select_related("project"):
        chosen = PlanPriority.objects.filter(
            plan__post=line.project.post_id, plan__fund_year__year=line.year
        ).values_list("priority_id", flat=True)
        assert line.project.priority_id in chosen


def test_running_seed_twice_changes_nothing(demo_world):
    before = snapshot()
    output = seed()
    assert "niets veranderd" in output
    assert snapshot() == before


def test_scale_adds_synthetic_projects_within_the_rules_R5(demo_world):
    before = Project.objects.count()
    output = seed("--scale", "1")
    assert Project.objects.count() == before + demo.DEMO_BASE_PROJECTS
    assert "synthetische projecten" in output
    for row in selectors.money_overview():
        assert row.planned + row.committed <= row.amount


def test_admin_pages_show_the_demo_world(demo_world, admin_client, django_assert_max_num_queries):
    for name in [
        "grants_moneyoverview",
        "grants_annualplan",
        "grants_project",
        "grants_fundyear",
        "grants_allocation",
        "grants_partner",
        "countries_participation",
        "countries_post",
        "grants_indicator",
        "priorities_priority",
    ]:
        with django_assert_max_num_queries(20):
            response = admin_client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name
    response = admin_client.get(reverse("admin:grants_moneyoverview_changelist"))
    assert b"DEMO-B01" in response.content
    assert "€" in response.content.decode()


def test_the_sample_import_files_import_on_the_demo_data_R1_R5_R6(demo_world, admin_client):
    """Issue 20: docs/import/'s posts, participations and allocations, uploaded in that order
    as the README says, are previewed without a refusal and imported on the demo world."""
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from countries.models import Participation
    from grants.models import Allocation

    samples = Path(__file__).resolve().parents[2] / "docs" / "import"
    for name, model in (("posts", "post"), ("participations", "participation"),
                        ("allocations", "allocation")):  # fmt: skip
        app = "grants" if model == "allocation" else "countries"
        url = f"/admin/{app}/{model}/import/"
        text = (samples / f"{name}.csv").read_bytes()
        upload = SimpleUploadedFile(f"{name}.csv", text)
        preview = admin_client.post(url, {"resource": "0", "format": "0", "import_file": upload})
        result = preview.context["result"]
        refusals = [(row.number, row.error.message_dict) for row in result.invalid_rows]
        assert not result.has_errors() and not refusals, (name, refusals)
        form = preview.context["confirm_form"]
        fields = {n: form.initial.get(n, f.initial) for n, f in form.fields.items()}
        admin_client.post(url.replace("/import/", "/process_import/"), fields)
    assert Participation.objects.filter(
        post__code="XX-NAI", fund_year__year=2028, selected=True
    ).exists()
    assert Allocation.objects.filter(post__code="XX-GVA", fund_year__year=2028).exists()
