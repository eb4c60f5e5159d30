"""The plan's aims and the annual report (R10, R13): the link between a plan's aimed-at
intended results and its projects from both sides, the report's cycle step by step, and the
report's figures against a plain computation from the data the test built."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from countries.models import PostMembership, PostRole
from fund.checks import StatusConflict
from grants import selectors, services
from grants.models import (
    AnnualReportStatus,
    FundYear,
    PlanAim,
    ProjectStatus,
    ReportTransition,
)
from grants.services import ChosenPriority
from tests.access.test_policy import ministry_user
from tests.factories import FundYearFactory, UserFactory
from tests.helpers import (
    REPORTED_YEAR,
    make_participant,
    make_plan,
    make_project,
    post_with_a_reported_year,
    refuses,
)

pytestmark = pytest.mark.django_db

ALL_PROGRESS = {
    code: f"Voortgang op {code}."
    for _amount, aims in REPORTED_YEAR["priorities"].values()
    for code in aims
}


def aims_of(plan) -> set[str]:
    return set(
        PlanAim.objects.filter(plan_priority__plan=plan).values_list(
            "intended_result__code", flat=True
        )
    )


@pytest.fixture
def reporting(actor, year2026):
    """A post with an approved 2026 plan, projects, payments and values (REPORTED_YEAR)."""
    return post_with_a_reported_year(actor, year2026)


# --- The plan's aims: R13 from both sides ---------------------------------------------------------


def test_a_plan_names_per_priority_the_results_it_aims_at_R13(actor, participant, year2026):
    plan = services.plan_create(actor=actor, post=participant, fund_year=year2026)
    services.plan_priorities_set(
        actor=actor,
        plan=plan,
        items=[
            ChosenPriority("women_girls", "300000", ["women_girls.srhr"]),
            ChosenPriority("lgbtiq", "1000"),
        ],
    )
    # A newly chosen priority without named aims aims at all its results, until narrowed.
    assert aims_of(plan) == {
        "women_girls.srhr",
        "lgbtiq.decriminalisation",
        "lgbtiq.discrimination",
        "lgbtiq.acceptance",
    }
    services.plan_priorities_set(
        actor=actor,
        plan=plan,
        items=[ChosenPriority("women_girls", "300000"), ChosenPriority("lgbtiq", "1000", [])],
    )
    assert aims_of(plan) == {"women_girls.srhr"}  # kept where not given, emptied where given


def test_an_aim_of_another_priority_is_refused_R13(actor, plan):
    with refuses("R13", "priorities"):
        services.plan_priorities_set(
            actor=actor,
            plan=plan,
            items=[ChosenPriority("women_girls", "1000", ["lgbtiq.acceptance"])],
        )
    with refuses("R13", "priorities"):
        services.plan_priorities_set(
            actor=actor,
            plan=plan,
            items=[ChosenPriority("women_girls", "1000", ["women_girls.nothing"])],
        )


def test_a_plan_without_aims_for_a_priority_cannot_be_submitted_R13(actor, plan):
    services.plan_priorities_set(
        actor=actor, plan=plan, items=[ChosenPriority("women_girls", "1000", [])]
    )
    with refuses("R13", "priorities"):
        services.plan_submit(actor=actor, plan=plan)


def test_a_project_serves_only_results_its_plan_aims_at_R13(actor, participant, plan):
    services.plan_priorities_set(
        actor=actor,
        plan=plan,
        items=[ChosenPriority("women_girls", "400000", ["women_girls.violence"])],
    )
    with refuses("R13", "intended_results"):
        make_project(actor, participant, intended_results=["women_girls.srhr"])
    project = make_project(actor, participant, intended_results=["women_girls.violence"])
    with refuses("R13", "intended_results"):
        services.project_update(
            actor=actor,
            project=project,
            intended_results=["women_girls.violence", "women_girls.srhr"],
        )


def test_a_project_in_a_year_whose_plan_does_not_aim_at_its_result_is_refused_R13(
    actor, participant, plan, year2026
):
    """Checked in every year the project has money in, as R4 is."""
    year2027 = FundYearFactory(year=2027)
    make_participant(actor, year2027, post=participant)
    make_plan(actor, participant, year2027)
    next_plan = participant.annual_plans.get(fund_year=year2027)
    services.plan_priorities_set(
        actor=actor,
        plan=next_plan,
        items=[ChosenPriority("women_girls", "1000", ["women_girls.violence"])],
    )
    with refuses("R13", "intended_results"):
        make_project(
            actor,
            participant,
            end_date=date(2027, 12, 31),
            intended_results=["women_girls.srhr"],
            budget={2026: Decimal("1000"), 2027: Decimal("1000")},
        )


def test_the_plan_keeps_an_aim_that_a_project_serves_R13(actor, participant, plan):
    make_project(actor, participant, intended_results=["women_girls.violence"])
    with refuses("R13", "priorities"):
        services.plan_priorities_set(
            actor=actor,
            plan=plan,
            items=[ChosenPriority("women_girls", "400000", ["women_girls.srhr"])],
        )
    # An aim no project serves can go.
    services.plan_priorities_set(
        actor=actor,
        plan=plan,
        items=[ChosenPriority("women_girls", "400000", ["women_girls.violence"])],
    )
    assert aims_of(plan) == {"women_girls.violence"}


def test_a_cancelled_project_no_longer_holds_its_aim_R13(actor, participant, plan):
    project = make_project(actor, participant, intended_results=["women_girls.violence"])
    services.project_update(actor=actor, project=project, status=ProjectStatus.CANCELLED)
    services.plan_priorities_set(
        actor=actor,
        plan=plan,
        items=[ChosenPriority("women_girls", "400000", ["women_girls.srhr"])],
    )


def test_the_plan_keeps_an_aim_that_its_annual_report_speaks_of_R13(actor, reporting):
    post, plan = reporting
    report = services.annual_report_create(actor=actor, post=post, fund_year=plan.fund_year)
    services.annual_report_update(
        actor=actor, report=report, progress={"women_girls.srhr": "Twee klinieken open."}
    )
    services.plan_amend(actor=actor, plan=plan, comment="Bijsturen")
    items = [
        ChosenPriority("women_girls", "500000", ["women_girls.violence"]),
        ChosenPriority("lgbtiq", "200000"),
    ]
    # The project "Klinieken" serves srhr too: free it first, so the report alone holds it.
    klinieken = post.projects.get(title="Klinieken")
    services.project_update(actor=actor, project=klinieken, status=ProjectStatus.CANCELLED)
    with refuses("R13", "priorities") as refusal:
        services.plan_priorities_set(actor=actor, plan=plan, items=items)
    # The report, not a project, holds it.
    assert "project" not in refusal.value.params
    assert refusal.value.params["year"] == 2026


# --- The annual report's cycle (R10) ------------------------------------------------------------


def test_a_report_needs_an_approved_plan_R10(actor, participant, plan, year2026):
    with refuses("R10", "fund_year"):
        services.annual_report_create(actor=actor, post=participant, fund_year=year2026)


def test_a_report_before_the_reform_is_refused_R7(actor, year2025):
    post = make_participant(actor, year2025)
    with refuses("R7", "fund_year"):
        services.annual_report_create(actor=actor, post=post, fund_year=year2025)


def test_a_post_outside_the_fund_gets_no_report_R6(actor, reporting, year2027):
    post, _plan = reporting
    with refuses("R6", "fund_year"):
        services.annual_report_create(actor=actor, post=post, fund_year=year2027)


def test_one_report_per_post_and_year_R10(actor, reporting):
    post, plan = reporting
    services.annual_report_create(actor=actor, post=post, fund_year=plan.fund_year)
    with refuses("R10", "fund_year"):
        services.annual_report_create(actor=actor, post=post, fund_year=plan.fund_year)


def test_progress_only_on_what_the_plan_aims_at_R13(actor, reporting):
    post, plan = reporting
    report = services.annual_report_create(actor=actor, post=post, fund_year=plan.fund_year)
    with refuses("R13", "progress"):
        services.annual_report_update(
            actor=actor, report=report, progress={"women_girls.peace_security": "Niet gepland."}
        )
    with refuses("R13", "progress"):
        services.annual_report_update(actor=actor, report=report, progress={"no.such": "x"})
    services.annual_report_update(
        actor=actor, report=report, summary="Een goed jaar.", progress=ALL_PROGRESS
    )
    assert report.progress.count() == 3
    # An empty text takes a result's progress out again.
    services.annual_report_update(
        actor=actor, report=report, progress={"lgbtiq.discrimination": ""}
    )
    assert report.progress.count() == 2


def test_the_whole_cycle_records_who_when_and_why_R10(actor, reporting):
    post, plan = reporting
    editor = UserFactory(username="editor")
    PostMembership.objects.create(user=editor, post=post, role=PostRole.EDITOR)
    reviewer = ministry_user("reviewer", "beoordelaar")
    report = services.annual_report_create(actor=editor, post=post, fund_year=plan.fund_year)
    with refuses("R13", "progress"):  # nothing said yet on the plan's aims
        services.annual_report_submit(actor=editor, report=report)
    services.annual_report_update(actor=editor, report=report, progress=ALL_PROGRESS)
    services.annual_report_submit(actor=editor, report=report, comment="Klaar.")
    with pytest.raises(StatusConflict):
        services.annual_report_update(actor=editor, report=report, summary="Nog iets")
    with refuses("R10", "comment"):
        services.annual_report_return(actor=reviewer, report=report, comment="")
    services.annual_report_return(actor=reviewer, report=report, comment="Meer cijfers graag.")
    services.annual_report_update(actor=editor, report=report, summary="Met cijfers.")
    services.annual_report_submit(actor=editor, report=report)
    services.annual_report_accept(actor=reviewer, report=report, comment="Dank.")
    report.refresh_from_db()
    assert report.status == AnnualReportStatus.ACCEPTED
    steps = list(
        ReportTransition.objects.filter(report=report).values_list(
            "from_status", "to_status", "actor__username", "comment"
        )
    )
    assert steps[0][:3] == ("", "draft", "editor")
    assert steps[1:] == [
        ("draft", "submitted", "editor", "Klaar."),
        ("submitted", "returned", "reviewer", "Meer cijfers graag."),
        ("returned", "submitted", "editor", ""),
        ("submitted", "accepted", "reviewer", "Dank."),
    ]
    assert all(t.at for t in ReportTransition.objects.filter(report=report))


@pytest.mark.parametrize(
    ("status", "step"),
    [
        ("draft", "accept"),
        ("draft", "return"),
        ("submitted", "submit"),
        ("accepted", "submit"),
        ("accepted", "return"),
        ("accepted", "accept"),
    ],
)
def test_a_step_its_status_does_not_allow_is_refused_R10(actor, reporting, status, step):
    post, plan = reporting
    report = services.annual_report_create(actor=actor, post=post, fund_year=plan.fund_year)
    services.annual_report_update(actor=actor, report=report, progress=ALL_PROGRESS)
    if status in ("submitted", "accepted"):
        services.annual_report_submit(actor=actor, report=report)
    if status == "accepted":
        services.annual_report_accept(actor=actor, report=report)
    before = ReportTransition.objects.count()
    with pytest.raises(StatusConflict) as refusal:
        services.annual_report_transition(actor=actor, report=report, action=step, comment="x")
    assert refusal.value.rule == "R10"
    assert ReportTransition.objects.count() == before


def test_an_unknown_step_is_refused_R10(actor, reporting):
    post, plan = reporting
    report = services.annual_report_create(actor=actor, post=post, fund_year=plan.fund_year)
    with refuses("R10", "action"):
        services.annual_report_transition(actor=actor, report=report, action="amend")


def test_only_reviewers_decide_and_viewers_only_read(actor, reporting):
    post, plan = reporting
    editor = UserFactory(username="editor")
    PostMembership.objects.create(user=editor, post=post, role=PostRole.EDITOR)
    viewer = UserFactory(username="viewer")
    PostMembership.objects.create(user=viewer, post=post, role=PostRole.VIEWER)
    with refuses("forbidden"):
        services.annual_report_create(actor=viewer, post=post, fund_year=plan.fund_year)
    report = services.annual_report_create(actor=editor, post=post, fund_year=plan.fund_year)
    services.annual_report_update(actor=editor, report=report, progress=ALL_PROGRESS)
    services.annual_report_submit(actor=editor, report=report)
    with refuses("forbidden"):
        services.annual_report_accept(actor=editor, report=report)
    with refuses("forbidden"):
        services.annual_report_accept(actor=ministry_user("reader", "alleen-lezen"), report=report)


# --- The figures (computed, not typed in) ---------------------------------------------------------


def expected_figures() -> dict:
    """The report's figures, computed with plain Python from REPORTED_YEAR."""
    per_priority = {}
    for code, (amount, aims) in REPORTED_YEAR["priorities"].items():
        mine = [p for p in REPORTED_YEAR["projects"] if p["priority"] == code]
        values = {
            aim: sorted(
                (p["title"], name, Decimal(values[2026]))
                for p in mine
                if p["results"][-1] == aim
                for name, _unit, _baseline, _target, values in p["indicators"]
                if 2026 in values
            )
            for aim in aims
        }
        per_priority[code] = {
            "in_plan": Decimal(amount),
            "planned": sum(
                (Decimal(p["budget"]) for p in mine if p["status"] == ProjectStatus.PLANNED),
                Decimal(0),
            ),
            "committed": sum(
                (Decimal(p["budget"]) for p in mine if p["status"] == ProjectStatus.ACTIVE),
                Decimal(0),
            ),
            "disbursed": sum((Decimal(a) for p in mine for a in p["paid"]), Decimal(0)),
            "values": values,
        }
    return per_priority


def test_the_figures_are_the_data_not_typed_in_R13(actor, reporting, year2026):
    post, _plan = reporting
    # Another post's data must not count.
    post_with_a_reported_year(actor, year2026)
    figures = selectors.annual_report_figures(post_id=post.pk, fund_year=year2026)
    expected = expected_figures()
    assert [row["priority"].code for row in figures["priorities"]] == list(expected)
    for row in figures["priorities"]:
        want = expected[row["priority"].code]
        for name in ("in_plan", "planned", "committed", "disbursed"):
            assert row[name] == want[name], name
        got = {
            result["intended_result"].code: sorted(
                (v["project"], v["indicator"], v["value"]) for v in result["values"]
            )
            for result in row["results"]
        }
        assert got == want["values"]
    money = figures["money"]
    assert money["allocated"] == Decimal("1000000.00")
    assert money["planned"] == sum(e["planned"] for e in expected.values())
    assert money["committed"] == sum(e["committed"] for e in expected.values())
    assert money["disbursed"] == sum(e["disbursed"] for e in expected.values())
    assert money["remaining"] == Decimal("1000000.00") - money["planned"] - money["committed"]


def test_the_results_overview_adds_up_across_posts_in_constant_queries_R13(actor, year2026):
    post_with_a_reported_year(actor, year2026)
    with CaptureQueriesContext(connection) as one_post:
        selectors.results_overview(year2026)
    posts = 1 + 2
    for _ in range(posts - 1):
        post_with_a_reported_year(actor, year2026)
    with CaptureQueriesContext(connection) as three_posts:
        overview = selectors.results_overview(year2026)
    assert len(three_posts) == len(one_post) <= 6
    rows = {row["intended_result"].code: row for p in overview for row in p["results"]}
    for _amount, aims in REPORTED_YEAR["priorities"].values():
        for aim in aims:
            assert rows[aim]["posts"] == posts
    for aim, row in rows.items():
        projects = [p for p in REPORTED_YEAR["projects"] if aim in p["results"]]
        assert row["projects"] == posts * len(projects), aim
        values = [
            (unit, Decimal(v[2026]))
            for p in REPORTED_YEAR["projects"]
            if p["results"][-1] == aim
            for _name, unit, _b, _t, v in p["indicators"]
        ]
        per_unit = {}
        for unit, value in values:
            per_unit[unit] = per_unit.get(unit, Decimal(0)) + posts * value
        assert {r["unit"]: r["total"] for r in row["reported"]} == per_unit, aim
    by_priority = {p["priority"].code: p for p in overview}
    assert by_priority["women_girls"]["values"] == posts * 3
    assert by_priority["lgbtiq"]["values"] == posts * 1
    assert FundYear.objects.count() == 1


# --- The reminder (R10) -----------------------------------------------------------------------


def test_the_daily_reminder_names_an_annual_report_due_and_not_one_submitted_R10(actor, year2026):
    from countries.services import membership_set
    from reports import services as reports
    from tests.helpers import deliver_outbox

    year2026.report_deadline = date(2027, 1, 31)
    year2026.save()
    late, _plan = post_with_a_reported_year(actor, year2026)
    done, _plan = post_with_a_reported_year(actor, year2026)
    report = services.annual_report_create(actor=actor, post=done, fund_year=year2026)
    services.annual_report_update(actor=actor, report=report, progress=ALL_PROGRESS)
    services.annual_report_submit(actor=actor, report=report)
    for post, address in ((late, "late@example.org"), (done, "done@example.org")):
        membership_set(
            actor=actor,
            user=UserFactory(username=address, email=address),
            post=post,
            role=PostRole.EDITOR,
            language="en",
        )
    made, _created = reports.build_report("reminder", "2027-01-20")  # 11 days before
    rows = [row for row in made.data["reminders"] if row.get("document") == "annual_report"]
    assert [(row["post"], row["overdue"]) for row in rows] == [(late.code, False)]
    [message] = deliver_outbox()
    assert message.to == ["late@example.org"]
    assert message.subject == f"Annual report 2026 of {late.code}: due on 2027-01-31"


# --- The report and a plan that changes after it (R10, R13) ---------------------------------------


def test_the_report_waits_while_its_plan_is_amended_R10_R13(actor, reporting):
    """The report speaks of the approved plan's aims: while an amendment may change them,
    the report is not written, submitted or accepted; once the plan is approved, it is."""
    post, plan = reporting
    report = services.annual_report_create(actor=actor, post=post, fund_year=plan.fund_year)
    services.plan_amend(actor=actor, plan=plan, comment="Bijsturen")
    with pytest.raises(StatusConflict) as refusal:
        services.annual_report_update(actor=actor, report=report, progress=ALL_PROGRESS)
    assert refusal.value.rule == "R10"
    with pytest.raises(StatusConflict):
        services.annual_report_submit(actor=actor, report=report)
    services.plan_submit(actor=actor, plan=plan)
    services.plan_approve(actor=actor, plan=plan)
    services.annual_report_update(actor=actor, report=report, progress=ALL_PROGRESS)
    services.annual_report_submit(actor=actor, report=report)
    services.plan_amend(actor=actor, plan=plan, comment="Nog eens")
    with pytest.raises(StatusConflict):
        services.annual_report_accept(actor=actor, report=report)
    report.refresh_from_db()
    assert report.status == AnnualReportStatus.SUBMITTED


def test_a_plan_gains_no_aim_once_its_report_is_with_the_ministry_R13(actor, reporting):
    post, plan = reporting
    report = services.annual_report_create(actor=actor, post=post, fund_year=plan.fund_year)
    services.annual_report_update(actor=actor, report=report, progress=ALL_PROGRESS)
    services.annual_report_submit(actor=actor, report=report)
    services.annual_report_accept(actor=actor, report=report)
    services.plan_amend(actor=actor, plan=plan, comment="Meer resultaten")
    before = aims_of(plan)
    wider = [
        ChosenPriority("women_girls", "500000", ["women_girls.violence", "women_girls.srhr"]),
        ChosenPriority("lgbtiq", "200000", ["lgbtiq.discrimination", "lgbtiq.acceptance"]),
    ]
    with refuses("R13", "priorities"):
        services.plan_priorities_set(actor=actor, plan=plan, items=wider)
    assert aims_of(plan) == before  # nothing half-written
    # Narrowing is a different matter: R13's other side keeps what the report speaks of.
    with refuses("R13", "priorities"):
        services.plan_priorities_set(
            actor=actor,
            plan=plan,
            items=[
                ChosenPriority("women_girls", "500000", ["women_girls.violence"]),
                ChosenPriority("lgbtiq", "200000"),
            ],
        )


def test_an_amendment_that_was_returned_is_revised_not_withdrawn_R10(actor, reporting):
    post, plan = reporting
    services.annual_report_create(actor=actor, post=post, fund_year=plan.fund_year)
    services.plan_amend(actor=actor, plan=plan, comment="Bijsturen")
    services.plan_submit(actor=actor, plan=plan)
    services.plan_return(actor=actor, plan=plan, comment="Nog niet")
    with pytest.raises(StatusConflict) as refusal:
        services.plan_withdraw(actor=actor, plan=plan)
    assert refusal.value.rule == "R10"
    plan.refresh_from_db()
    assert aims_of(plan)  # the plan and its aims stay


def test_the_figures_count_only_the_year_and_the_counting_projects_R5_R13(actor, reporting):
    """Money of another year, and cancelled projects, stay out; a completed project counts
    as committed — checked against the plain computation plus these additions."""
    post, plan = reporting
    year2026 = plan.fund_year
    year2027 = FundYearFactory(year=2027, plan_submission_deadline=date(2026, 11, 15))
    make_participant(actor, year2027, post=post)
    make_plan(actor, post, year2027, priorities=(("women_girls", "300000.00"),))
    both_years = make_project(
        actor, post, title="Twee jaar", end_date=date(2027, 12, 31),
        status=ProjectStatus.COMPLETED, intended_results=["women_girls.violence"],
        budget={2026: Decimal("40000.00"), 2027: Decimal("60000.00")},
    )  # fmt: skip
    services.disbursement_create(
        actor=actor, project=both_years, date=date(2026, 5, 1), amount=Decimal("30000.00")
    )
    services.disbursement_create(
        actor=actor, project=both_years, date=date(2027, 5, 1), amount=Decimal("50000.00")
    )
    dropped = make_project(
        actor, post, title="Geschrapt", status=ProjectStatus.PLANNED,
        intended_results=["women_girls.violence"], budget={2026: Decimal("70000.00")},
    )  # fmt: skip
    services.project_update(actor=actor, project=dropped, status=ProjectStatus.CANCELLED)

    figures = selectors.annual_report_figures(post_id=post.pk, fund_year=year2026)

    expected = expected_figures()
    women = next(row for row in figures["priorities"] if row["priority"].code == "women_girls")
    assert women["planned"] == expected["women_girls"]["planned"]  # the cancelled one is out
    assert women["committed"] == expected["women_girls"]["committed"] + Decimal("40000.00")
    assert women["disbursed"] == expected["women_girls"]["disbursed"] + Decimal("30000.00")


def test_the_overview_counts_plans_in_force_and_reports_with_the_ministry_R13(actor, year2026):
    submitted_post, _plan = post_with_a_reported_year(actor, year2026)
    draft_post, _plan = post_with_a_reported_year(actor, year2026)
    post_with_a_reported_year(actor, year2026, approve=False)  # a plan still in draft
    for post in (submitted_post, draft_post):
        report = services.annual_report_create(actor=actor, post=post, fund_year=year2026)
        services.annual_report_update(actor=actor, report=report, progress=ALL_PROGRESS)
        if post is submitted_post:
            services.annual_report_submit(actor=actor, report=report)

    overview = selectors.results_overview(year2026)

    rows = {row["intended_result"].code: row for block in overview for row in block["results"]}
    assert rows["women_girls.violence"]["posts"] == 2  # the draft plan does not count
    assert rows["women_girls.violence"]["reports"] == 1  # nor does the draft report
    assert rows["women_girls.violence"]["accepted"] == 0
