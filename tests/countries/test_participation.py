"""Selection of posts per fund year: R1 (31 + 5), R6, R7 and the R12 assessment."""

import pytest
from django.db import IntegrityError, transaction

from countries import services
from countries.models import Assessment, Participation, PostKind, SelectionCriterion
from grants import services as grant_services
from tests.factories import FundYearFactory, PostFactory
from tests.helpers import make_participant, make_plan, refuses

pytestmark = pytest.mark.django_db


def select(actor, fund_year, kind, count):
    for _ in range(count):
        services.participation_set(
            actor=actor,
            post=PostFactory(kind=kind),
            fund_year=fund_year,
            selected=True,
            history_import=fund_year.year < 2026,  # R7: history is loaded, not edited
        )


def test_32nd_bilateral_participation_is_refused_R1(actor, year2026):
    select(actor, year2026, PostKind.BILATERAL, 31)
    extra = PostFactory(kind=PostKind.BILATERAL)
    with refuses("R1", field="selected") as info:
        services.participation_set(actor=actor, post=extra, fund_year=year2026, selected=True)
    assert "31" in str(info.value)
    assert Participation.objects.filter(fund_year=year2026, selected=True).count() == 31
    assert not Participation.objects.filter(post=extra, selected=True).exists()


def test_6th_multilateral_participation_is_refused_R1(actor, year2026):
    select(actor, year2026, PostKind.MULTILATERAL, 5)
    with refuses("R1"):
        services.participation_set(
            actor=actor,
            post=PostFactory(kind=PostKind.MULTILATERAL),
            fund_year=year2026,
            selected=True,
        )
    # The multilateral cap does not block bilateral seats.
    services.participation_set(
        actor=actor, post=PostFactory(kind=PostKind.BILATERAL), fund_year=year2026, selected=True
    )


def test_caps_do_not_apply_before_the_reform_R1_R7(actor, year2025):
    select(actor, year2025, PostKind.BILATERAL, 40)
    assert Participation.objects.filter(fund_year=year2025, selected=True).count() == 40


def test_a_candidate_that_is_not_selected_takes_no_seat_R1(actor, year2026):
    select(actor, year2026, PostKind.MULTILATERAL, 5)
    candidate = PostFactory(kind=PostKind.MULTILATERAL)
    participation = services.participation_set(
        actor=actor, post=candidate, fund_year=year2026, selected=False
    )
    assert participation.selected is False
    # Deselecting one frees a seat for the candidate.
    first = Participation.objects.filter(fund_year=year2026, selected=True).first()
    services.participation_set(actor=actor, post=first.post, fund_year=year2026, selected=False)
    services.participation_set(actor=actor, post=candidate, fund_year=year2026, selected=True)
    assert Participation.objects.filter(fund_year=year2026, selected=True).count() == 5


def test_selection_records_who_decided_R12(actor, year2026):
    participation = services.participation_set(
        actor=actor, post=PostFactory(), fund_year=year2026, selected=True, decision_note="ok"
    )
    assert participation.decided_by == actor
    assert participation.decided_at is not None
    assert participation.history.first().history_user == actor


def test_deselecting_a_post_with_money_is_refused_R6(actor, year2026):
    post = make_participant(actor, year2026)
    with refuses("R6"):
        services.participation_set(actor=actor, post=post, fund_year=year2026, selected=False)
    assert Participation.objects.get(post=post).selected


def test_deselecting_a_post_with_a_plan_is_refused_R6(actor, year2026):
    post = make_participant(actor, year2026)
    make_plan(actor, post, year2026)
    grant_services.plan_priorities_set(actor=actor, plan=post.annual_plans.get(), items=[])
    grant_services.allocation_set(actor=actor, post=post, fund_year=year2026, amount=0)
    with refuses("R6"):
        services.participation_set(actor=actor, post=post, fund_year=year2026, selected=False)


def test_a_selected_post_keeps_its_kind_R1(actor, year2026):
    post = make_participant(actor, year2026, allocation=None)
    post.kind = PostKind.MULTILATERAL
    with refuses("R1", field="kind"):
        services.post_save(actor=actor, post=post)


def test_assessment_per_criterion_explains_the_selection_R12(actor, year2026):
    participation = services.participation_set(
        actor=actor, post=PostFactory(), fund_year=year2026, selected=True
    )
    for criterion in SelectionCriterion.values:
        services.assessment_set(
            actor=actor, participation=participation, criterion=criterion, score=4, note="why"
        )
    services.assessment_set(
        actor=actor, participation=participation, criterion="impact", score=2, note="revised"
    )
    scores = dict(participation.assessments.values_list("criterion", "score"))
    assert len(scores) == 5
    assert scores["impact"] == 2


@pytest.mark.parametrize("score", [0, 6, 2.5, True])
def test_assessment_score_must_be_1_to_5_R12(actor, year2026, score):
    participation = services.participation_set(
        actor=actor, post=PostFactory(), fund_year=year2026, selected=False
    )
    with refuses("R12", field="score"):
        services.assessment_set(
            actor=actor, participation=participation, criterion="impact", score=score
        )


def test_unknown_criterion_is_refused_R12(actor, year2026):
    participation = services.participation_set(
        actor=actor, post=PostFactory(), fund_year=year2026, selected=False
    )
    with refuses("R12", field="criterion"):
        services.assessment_set(
            actor=actor, participation=participation, criterion="popularity", score=3
        )


def test_database_refuses_score_out_of_range_R12(actor):
    participation = services.participation_set(
        actor=actor, post=PostFactory(), fund_year=FundYearFactory(year=2028), selected=False
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(participation=participation, criterion="impact", score=9)
