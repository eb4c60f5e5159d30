"""Real concurrent transactions on PostgreSQL: two writers race, exactly one wins (R1, R2, R5).

Each thread opens its own connection and transaction and waits at a barrier, so both start
the service at the same moment. Without the row lock of the service both would read the same
state and both pass (or the loser would hit a raw IntegrityError instead of the rule).
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from countries import services as country_services
from countries.models import Assessment, Participation, PostKind
from fund.checks import FundRuleError
from grants import services
from grants.models import (
    Allocation,
    BudgetLine,
    FundYear,
    IndicatorValue,
    Partner,
    PartnerType,
)
from grants.services import ChosenPriority
from priorities.models import IntendedResult
from tests.factories import FundYearFactory, PartnerFactory, PostFactory, StaffFactory
from tests.helpers import make_participant, make_plan, postgres_only

# serialized_rollback restores the reference data (countries, priorities) after each flush.
pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def race(*jobs):
    """Run the jobs in parallel threads, each in its own transaction; return their outcomes."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def run(index, job):
        try:
            with transaction.atomic():
                connection.ensure_connection()
                barrier.wait(timeout=10)
                outcomes[index] = ("ok", job())
        except Exception as exc:
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def assert_one_wins(outcomes, rule):
    wins = [o for o in outcomes if o[0] == "ok"]
    losses = [o[1] for o in outcomes if o[0] == "error"]
    assert len(wins) == 1, outcomes
    assert len(losses) == 1, outcomes
    assert isinstance(losses[0], FundRuleError), repr(losses[0])
    assert losses[0].rule == rule


@pytest.mark.parametrize("attempt", range(3))
def test_racing_for_the_last_priority_slot_one_wins_R2(attempt):
    actor = StaffFactory(username=f"race-r2-{attempt}")
    fund_year = FundYearFactory(year=2026)
    post = make_participant(actor, fund_year)
    plan = make_plan(actor, post, fund_year, priorities=(("women_girls", "100"),))

    def add(code):
        return lambda: services.plan_priority_add(
            actor=actor, plan=plan, priority=code, amount="100"
        )

    outcomes = race(add("lgbtiq"), add("expression"))
    assert_one_wins(outcomes, "R2")
    assert plan.plan_priorities.count() == 2


@pytest.mark.parametrize("attempt", range(3))
def test_racing_for_the_31st_bilateral_seat_one_wins_R1(attempt):
    actor = StaffFactory(username=f"race-r1-{attempt}")
    fund_year = FundYearFactory(year=2027)
    for _ in range(30):
        country_services.participation_set(
            actor=actor, post=PostFactory(), fund_year=fund_year, selected=True
        )
    candidates = [PostFactory(kind=PostKind.BILATERAL) for _ in range(2)]

    def select(post):
        return lambda: country_services.participation_set(
            actor=actor, post=post, fund_year=fund_year, selected=True
        )

    outcomes = race(*(select(p) for p in candidates))
    assert_one_wins(outcomes, "R1")
    assert Participation.objects.filter(fund_year=fund_year, selected=True).count() == 31


@pytest.mark.parametrize("attempt", range(3))
def test_racing_projects_cannot_overspend_the_allocation_R5(attempt):
    actor = StaffFactory(username=f"race-r5-{attempt}")
    fund_year = FundYearFactory(year=2026)
    post = make_participant(actor, fund_year, allocation=Decimal("100000.00"))
    make_plan(actor, post, fund_year, priorities=(("women_girls", "100000"),))
    partner = PartnerFactory(post=post)

    def create(title):
        return lambda: services.project_create(
            actor=actor,
            post=post,
            partner=partner,
            priority=post.annual_plans.get().plan_priorities.get().priority,
            title=title,
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
            budget={2026: Decimal("60000.00")},
        )

    outcomes = race(create("A"), create("B"))
    assert_one_wins(outcomes, "R5")
    assert BudgetLine.objects.filter(project__post=post).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_racing_allocations_cannot_overspend_the_envelope_R5(attempt):
    actor = StaffFactory(username=f"race-env-{attempt}")
    fund_year = FundYearFactory(year=2026, envelope=Decimal("1000000.00"))
    posts = [make_participant(actor, fund_year, allocation=None) for _ in range(2)]

    def allocate(post):
        return lambda: services.allocation_set(
            actor=actor, post=post, fund_year=fund_year, amount="600000.00"
        )

    outcomes = race(*(allocate(p) for p in posts))
    assert_one_wins(outcomes, "R5")
    assert Allocation.objects.filter(fund_year=fund_year).count() == 1


@pytest.mark.parametrize("attempt", range(6))  # the interleaving that deadlocks is not certain
def test_plan_edit_and_allocation_change_do_not_deadlock_R5(attempt):
    """Plan writes lock Post then plan; allocation writes lock FundYear then Post. If a plan
    write also locked the FundYear (after the Post), the two would deadlock."""
    actor = StaffFactory(username=f"race-mix-{attempt}")
    fund_year = FundYearFactory(year=2026)
    post = make_participant(actor, fund_year, allocation=Decimal("500000.00"))
    plan = make_plan(actor, post, fund_year, priorities=(("women_girls", "100000"),))

    outcomes = race(
        lambda: services.plan_priorities_set(
            actor=actor, plan=plan, items=[ChosenPriority("women_girls", "400000.00")]
        ),
        lambda: services.allocation_set(
            actor=actor, post=post, fund_year=fund_year, amount="300000.00"
        ),
    )
    errors = [o[1] for o in outcomes if o[0] == "error"]
    # Either order is legal; the later one may be refused by R5, but never a database error.
    assert all(isinstance(e, FundRuleError) and e.rule == "R5" for e in errors), errors
    allocated = Allocation.objects.get(post=post).amount
    planned = plan.plan_priorities.get().amount
    assert planned <= allocated


@pytest.mark.parametrize("attempt", range(3))
def test_partner_move_and_project_creation_keep_the_partner_with_its_post_R11(attempt):
    actor = StaffFactory(username=f"race-r11-{attempt}")
    fund_year = FundYearFactory(year=2026)
    post = make_participant(actor, fund_year)
    make_plan(actor, post, fund_year)
    partner = PartnerFactory(post=post)
    other = PostFactory()

    outcomes = race(
        lambda: services.partner_save(
            actor=actor,
            partner=partner,
            post=other,
            name=partner.name,
            partner_type=partner.partner_type,
            country=partner.country,
        ),
        lambda: services.project_create(
            actor=actor,
            post=post,
            partner=partner,
            priority=post.annual_plans.get().plan_priorities.get().priority,
            title="race",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
            budget={2026: Decimal("1000.00")},
        ),
    )
    assert_one_wins(outcomes, "R11")
    partner.refresh_from_db()
    for project in partner.projects.all():
        assert project.post_id == partner.post_id


def assert_no_database_error(outcomes):
    errors = [o[1] for o in outcomes if o[0] == "error"]
    assert not errors, errors


@pytest.mark.parametrize("attempt", range(3))
def test_racing_assessments_of_one_criterion_leave_one_row_R12(attempt):
    """Both writers of the same criterion queue on the post's lock: the second updates the
    first's row instead of running into the unique constraint."""
    actor = StaffFactory(username=f"race-r12-{attempt}")
    fund_year = FundYearFactory(year=2026)
    post = make_participant(actor, fund_year, allocation=None)
    participation = Participation.objects.get(post=post, fund_year=fund_year)

    def assess(score):
        return lambda: country_services.assessment_set(
            actor=actor, participation=participation, criterion="impact", score=score
        )

    outcomes = race(assess(2), assess(4))
    assert_no_database_error(outcomes)
    stored = Assessment.objects.get(participation=participation, criterion="impact")
    assert stored.score in (2, 4)
    assert stored.history.count() == 2  # both writes happened, one after the other


@pytest.mark.parametrize("attempt", range(3))
def test_racing_values_for_one_indicator_year_leave_one_row_R13(attempt):
    actor = StaffFactory(username=f"race-r13-{attempt}")
    fund_year = FundYearFactory(year=2026)
    post = make_participant(actor, fund_year)
    make_plan(actor, post, fund_year)
    result = IntendedResult.objects.filter(priority__code="women_girls").first()
    project = services.project_create(
        actor=actor,
        post=post,
        partner=PartnerFactory(post=post),
        priority=result.priority,
        title="race",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        intended_results=[result],
        budget={2026: Decimal("1000.00")},
    )
    indicator = services.indicator_save(
        actor=actor,
        project=project,
        intended_result=result,
        name="Reached",
        unit="people",
        baseline=0,
        target=10,
    )

    def report(value):
        return lambda: services.indicator_value_set(
            actor=actor, indicator=indicator, year=2026, value=value
        )

    outcomes = race(report(3), report(7))
    assert_no_database_error(outcomes)
    stored = IndicatorValue.objects.get(indicator=indicator, year=2026)
    assert stored.value in (Decimal("3.00"), Decimal("7.00"))
    assert stored.history.count() == 2


@pytest.mark.parametrize("attempt", range(3))
def test_racing_creations_of_one_partner_name_one_wins_R8(attempt):
    actor = StaffFactory(username=f"race-r8-{attempt}")
    fund_year = FundYearFactory(year=2026)
    post = make_participant(actor, fund_year, allocation=None)

    def create(partner_type):
        return lambda: services.partner_save(
            actor=actor,
            post=post,
            name="Same name",
            partner_type=partner_type,
            country=post.host_country,
        )

    outcomes = race(create(PartnerType.LOCAL_CSO), create(PartnerType.NHRI))
    assert_one_wins(outcomes, "invalid")
    loser = next(o[1] for o in outcomes if o[0] == "error")
    assert loser.field == "name"
    assert Partner.objects.filter(post=post, name="Same name").count() == 1


@pytest.mark.parametrize("attempt", range(6))  # the interleaving that deadlocks is not certain
def test_plan_creation_and_allocation_change_do_not_deadlock_R5_R10(attempt):
    """A new plan refers to its fund year; allocation_set holds that row while it waits for the
    post. plan_create therefore takes the FundYear before the Post, like every writer."""
    actor = StaffFactory(username=f"race-plan-{attempt}")
    fund_year = FundYearFactory(year=2026)
    post = make_participant(actor, fund_year, allocation=Decimal("500000.00"))

    outcomes = race(
        lambda: services.plan_create(actor=actor, post=post, fund_year=fund_year),
        lambda: services.allocation_set(
            actor=actor, post=post, fund_year=fund_year, amount="400000.00"
        ),
    )
    assert_no_database_error(outcomes)
    assert post.annual_plans.count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_racing_creations_of_one_fund_year_one_wins(attempt):
    actor = StaffFactory(username=f"race-fy-{attempt}")

    def create():
        return services.fund_year_save(
            actor=actor,
            fund_year=FundYear(
                year=2030, envelope=Decimal("1.00"), plan_submission_deadline=date(2029, 11, 1)
            ),
        )

    outcomes = race(create, create)
    assert_one_wins(outcomes, "invalid")
    assert FundYear.objects.filter(year=2030).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_racing_creations_of_one_annual_report_one_wins_R10(attempt):
    """Two editors start the year's report at once: one report, the other gets R10."""
    from grants.models import AnnualReport
    from tests.helpers import post_with_a_reported_year

    actor = StaffFactory(username=f"race-report-{attempt}")
    year = FundYearFactory(year=2026)
    post, _plan = post_with_a_reported_year(actor, year)
    outcomes = race(
        *[
            lambda: services.annual_report_create(actor=actor, post=post, fund_year=year)
            for _ in range(2)
        ]
    )
    assert_one_wins(outcomes, "R10")
    assert AnnualReport.objects.filter(post=post, fund_year=year).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_an_amendment_racing_a_report_submission_leaves_them_consistent_R13(attempt):
    """The post submits its report while the reviewer opens an amendment of the plan: either
    the report is submitted on the approved plan, or it waits for the amended one (R10)."""
    from grants.models import AnnualPlan, AnnualReport, AnnualReportStatus, PlanStatus
    from tests.helpers import REPORTED_YEAR, post_with_a_reported_year

    actor = StaffFactory(username=f"race-amend-{attempt}")
    year = FundYearFactory(year=2026)
    post, plan = post_with_a_reported_year(actor, year)
    report = services.annual_report_create(actor=actor, post=post, fund_year=year)
    progress = {
        code: "Voortgang."
        for _amount, aims in REPORTED_YEAR["priorities"].values()
        for code in aims
    }
    services.annual_report_update(actor=actor, report=report, progress=progress)
    outcomes = race(
        lambda: services.annual_report_submit(actor=actor, report=report),
        lambda: services.plan_amend(actor=actor, plan=plan, comment="Bijsturen"),
    )
    plan_status = AnnualPlan.objects.get(pk=plan.pk).status
    report_status = AnnualReport.objects.get(pk=report.pk).status
    assert plan_status == PlanStatus.AMENDING and outcomes[1][0] == "ok", outcomes
    if outcomes[0][0] == "ok":
        assert report_status == AnnualReportStatus.SUBMITTED
    else:
        assert isinstance(outcomes[0][1], FundRuleError) and outcomes[0][1].rule == "R10"
        assert report_status == AnnualReportStatus.DRAFT


@pytest.mark.parametrize("first", ["status change", "new line"])
def test_a_line_written_while_its_project_changes_status_is_summed_under_the_new_one_R5(first):
    """BudgetTotal's triggers (migration 0013), written by hand past the services' post lock:
    a line's trigger reads its project FOR SHARE, so a budget line inserted while another
    transaction changes the project's status waits for it (or it for the line) and lands in
    the cell of the status the project ends with."""
    import time

    from django.db.models import Count, Sum

    from grants.models import BudgetTotal, Project, ProjectStatus
    from tests.helpers import make_project

    admin = StaffFactory(username="race-admin")
    year = FundYearFactory(year=2026)
    post = make_participant(admin, year, allocation=Decimal("900000.00"))
    make_plan(admin, post, year)
    project = make_project(admin, post, end_date=date(2027, 12, 31), budget={})
    started = threading.Event()
    errors = []

    def change_status():
        try:
            with transaction.atomic():
                if first == "new line":
                    started.wait(timeout=10)
                Project.objects.filter(pk=project.pk).update(status=ProjectStatus.ACTIVE)
                if first == "status change":
                    started.set()
                    time.sleep(0.5)  # the line's insert waits for this commit meanwhile
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def write_line():
        try:
            with transaction.atomic():
                if first == "status change":
                    started.wait(timeout=10)
                BudgetLine.objects.create(project_id=project.pk, year=2026, amount=Decimal("5"))
                if first == "new line":
                    started.set()
                    time.sleep(0.5)  # the status change waits for this commit meanwhile
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=change_status), threading.Thread(target=write_line)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    live = {
        (row["project__status"], row["total"], row["lines"])
        for row in BudgetLine.objects.filter(project=project)
        .values("project__status")
        .annotate(total=Sum("amount"), lines=Count("pk"))
    }
    kept = {
        (row.status, row.amount, row.lines)
        for row in BudgetTotal.objects.filter(post=post, lines__gt=0)
    }
    assert live == {(ProjectStatus.ACTIVE, Decimal("5.00"), 1)}
    assert kept == live
