"""Only the domain error leaves a service: every input fed odd values (Hypothesis).

Each case calls one service with valid arguments except one, which Hypothesis replaces by an
odd value: None, floats (NaN, ±inf), huge or signalling decimals, texts with NUL characters,
dates given as texts, date-times, lists, dicts, bytes… The service may accept the value or refuse
it with FundRuleError naming a rule (or `invalid`) and a field — never `InvalidOperation`,
`KeyError`, `AttributeError`, `TypeError`, `IntegrityError`, `DataError` or Django's plain
ValidationError. Every example runs in a savepoint that is rolled back.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from countries import services as country_services
from countries.models import Participation, Post, PostKind
from fund.checks import FundRuleError
from grants import services
from grants.models import FundYear, Indicator, Partner, PartnerType, Project, ProjectStatus
from grants.services import ChosenPriority
from priorities.models import IntendedResult
from tests.factories import FundYearFactory, StaffFactory, country
from tests.helpers import make_participant, make_plan, priority

pytestmark = pytest.mark.django_db

ODD_TEXTS = [
    "",
    " ",
    "2026",
    "2027.9",
    "2026-01-01",
    "1E+30",
    "NaN",
    "-Infinity",
    "-0",
    " 12.50 ",
    "1,5",
    "women_girls",
    "cancelled",
    "approve",
    "impact",
    "local_cso",
    "\x00",
    "x" * 300,
]
odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [Decimal("1E+30"), Decimal("-1E+30"), Decimal("1E-30"), Decimal("sNaN"), Decimal("0.001")]
    ),
    st.text(max_size=40),
    st.sampled_from(ODD_TEXTS),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.integers(), st.integers(), max_size=2),
    st.binary(max_size=4),
    st.builds(object),
)


@dataclass
class World:
    actor: object
    year: FundYear
    next_year: FundYear
    post: Post
    participation: Participation
    plan: object
    partner: Partner
    project: Project
    indicator: Indicator
    result: IntendedResult


@pytest.fixture
def world(db) -> World:
    actor = StaffFactory(username="fuzzer")
    year = FundYearFactory(year=2026)
    next_year = FundYearFactory(year=2027)
    post = make_participant(actor, year)
    make_participant(actor, next_year, post=post)
    plan = make_plan(actor, post, year)
    partner = services.partner_save(
        actor=actor,
        post=post,
        name="Partner",
        partner_type=PartnerType.LOCAL_CSO,
        country=country("KE"),
    )
    result = IntendedResult.objects.filter(priority__code="women_girls").order_by("pk").first()
    project = services.project_create(
        actor=actor,
        post=post,
        partner=partner,
        priority=priority("women_girls"),
        title="Project",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        status=ProjectStatus.ACTIVE,
        intended_results=[result],
        budget={2026: Decimal("100000.00")},
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
    return World(
        actor=actor,
        year=year,
        next_year=next_year,
        post=post,
        participation=Participation.objects.get(post=post, fund_year=year),
        plan=plan,
        partner=partner,
        project=project,
        indicator=indicator,
        result=result,
    )


def _fund_year(w: World, field: str, value):
    fund_year = FundYear.objects.get(pk=w.year.pk)
    setattr(fund_year, field, value)
    return services.fund_year_save(actor=w.actor, fund_year=fund_year)


def _post(w: World, field: str, value):
    post = Post.objects.get(pk=w.post.pk)
    setattr(post, field, value)
    return country_services.post_save(actor=w.actor, post=post)


def _project_create(w: World, field: str, value):
    fields = {
        "partner": w.partner,
        "priority": priority("women_girls"),
        "title": "New",
        "description": "",
        "start_date": date(2026, 2, 1),
        "end_date": date(2026, 11, 30),
        "status": ProjectStatus.PLANNED,
        "intended_results": [w.result],
        "budget": {2026: Decimal("1000.00")},
    }
    if field == "budget year":
        fields["budget"] = {value: Decimal("1000.00")}
    elif field == "budget amount":
        fields["budget"] = {2026: value}
    else:
        fields[field] = value
    return services.project_create(actor=w.actor, post=w.post, **fields)


def _project_bulk(w: World, field: str, value):
    spec = services.ProjectSpec(
        partner=w.partner,
        priority=priority("women_girls"),
        title="Bulk",
        start_date=date(2026, 2, 1),
        end_date=date(2026, 11, 30),
        budget={2026: Decimal("1000.00")},
    )
    return services.projects_bulk_create(
        actor=w.actor, post=w.post, specs=[replace(spec, **{field: value})]
    )


def _project_update(w: World, field: str, value):
    if field == "budget year":
        return services.project_update(actor=w.actor, project=w.project, budget={value: 1})
    if field == "budget amount":
        return services.project_update(actor=w.actor, project=w.project, budget={2026: value})
    return services.project_update(actor=w.actor, project=w.project, **{field: value})


def _indicator_save(w: World, field: str, value):
    fields = {
        "intended_result": w.result,
        "name": "Reached",
        "unit": "people",
        "baseline": 0,
        "target": 10,
    }
    fields[field] = value
    return services.indicator_save(
        actor=w.actor, project=w.project, indicator=w.indicator, **fields
    )


def _approved_plan_next_year(w: World):
    plan = make_plan(w.actor, w.post, w.next_year)
    services.plan_submit(actor=w.actor, plan=plan)
    services.plan_approve(actor=w.actor, plan=plan)
    return plan


def _report_create(w: World, field: str, value):
    _approved_plan_next_year(w)
    arguments = {"post": w.post, "fund_year": w.next_year, "summary": ""}
    arguments[field] = value
    return services.annual_report_create(actor=w.actor, **arguments)


def _report(w: World, *, complete: bool = False):
    plan = _approved_plan_next_year(w)
    report = services.annual_report_create(actor=w.actor, post=w.post, fund_year=w.next_year)
    if complete:
        aims = IntendedResult.objects.filter(plan_aims__plan_priority__plan=plan)
        services.annual_report_update(
            actor=w.actor, report=report, progress=dict.fromkeys(aims, "Voortgang.")
        )
    return report


def _report_update(w: World, field: str, value):
    arguments = {"summary": "", "progress": {}}
    arguments[field] = value
    return services.annual_report_update(actor=w.actor, report=_report(w), **arguments)


def _report_transition(w: World, field: str, value):
    arguments = {"action": "submit", "comment": ""}
    arguments[field] = value
    report = _report(w, complete=True)
    return services.annual_report_transition(actor=w.actor, report=report, **arguments)


def _keywords(service, **fixed):
    """A case that passes the odd value as one keyword of `service`."""

    def call(w: World, field: str, value):
        arguments = {name: (make(w) if callable(make) else make) for name, make in fixed.items()}
        arguments[field] = value
        return service(actor=w.actor, **arguments)

    return call


def _partner_fields():
    return {
        "post": lambda w: w.post,
        "name": "Partner two",
        "partner_type": PartnerType.NHRI,
        "country": lambda w: country("KE"),
        "sensitivity": "sensitive",
        "cleared_for_publication": False,
    }


CASES = {
    "fund_year_save": (_fund_year, ["envelope", "min_project_size", "year",
                                    "plan_submission_deadline", "review_deadline"]),
    "post_save": (_post, ["kind", "code", "name", "city"]),
    "participation_set": (
        _keywords(
            country_services.participation_set,
            post=lambda w: w.post,
            fund_year=lambda w: w.year,
            selected=True,
            decision_note="",
        ),
        ["selected", "decision_note"],
    ),
    "assessment_set": (
        _keywords(
            country_services.assessment_set,
            participation=lambda w: w.participation,
            criterion="impact",
            score=3,
            note="",
        ),
        ["criterion", "score", "note"],
    ),
    "allocation_set": (
        _keywords(
            services.allocation_set,
            post=lambda w: w.post,
            fund_year=lambda w: w.year,
            amount="900000.00",
            note="",
        ),
        ["amount", "note"],
    ),
    "plan_create": (
        _keywords(
            services.plan_create, post=lambda w: w.post, fund_year=lambda w: w.next_year
        ),
        ["narrative", "fund_year"],
    ),
    "plan_update": (
        _keywords(services.plan_update, plan=lambda w: w.plan, narrative=""),
        ["narrative"],
    ),
    "plan_priorities_set": (
        lambda w, field, value: services.plan_priorities_set(
            actor=w.actor,
            plan=w.plan,
            items=value if field == "items" else
            [ChosenPriority(value, "1.00")] if field == "priority" else
            [ChosenPriority("women_girls", value)],
        ),
        ["items", "priority", "amount"],
    ),
    "plan_transition": (
        _keywords(services.plan_transition, plan=lambda w: w.plan, action="submit", comment=""),
        ["action", "comment"],
    ),
    "partner_save": (
        _keywords(services.partner_save, **_partner_fields()),
        ["name", "partner_type", "country", "sensitivity", "cleared_for_publication"],
    ),
    "project_create": (
        _project_create,
        ["partner", "priority", "title", "description", "start_date", "end_date", "status",
         "intended_results", "budget", "budget year", "budget amount"],
    ),
    "projects_bulk_create": (
        _project_bulk,
        ["partner", "priority", "title", "start_date", "end_date", "status", "budget"],
    ),
    "project_update": (
        _project_update,
        ["partner", "priority", "title", "description", "start_date", "end_date", "status",
         "intended_results", "budget", "budget year", "budget amount"],
    ),
    "disbursement_create": (
        _keywords(
            services.disbursement_create,
            project=lambda w: w.project,
            date=date(2026, 3, 1),
            amount="10.00",
            reference="",
        ),
        ["date", "amount", "reference"],
    ),
    "indicator_save": (
        _indicator_save,
        ["intended_result", "name", "unit", "baseline", "target"],
    ),
    "indicator_value_set": (
        _keywords(
            services.indicator_value_set,
            indicator=lambda w: w.indicator,
            year=2026,
            value=5,
            note="",
        ),
        ["year", "value", "note"],
    ),
    "participation_publish": (
        _keywords(
            country_services.participation_publish,
            participation=lambda w: w.participation,
            published=True,
        ),
        ["published"],
    ),
    "annual_report_create": (_report_create, ["summary", "fund_year"]),
    "annual_report_update": (_report_update, ["summary", "progress"]),
    "annual_report_transition": (_report_transition, ["action", "comment"]),
}  # fmt: skip


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


ALL_FIELDS = [(case, field) for case, (_call, fields) in CASES.items() for field in fields]


def hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


@pytest.mark.parametrize(("case", "field"), ALL_FIELDS)
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=odd_values)
def test_odd_values_get_the_domain_error_or_are_accepted(world, case, field, value):
    call, _fields = CASES[case]
    assume(hashable(value) or field != "budget year")  # a dict key must hash to be given at all
    with rolled_back():
        try:
            call(world, field, value)
        except FundRuleError as refusal:
            assert refusal.rule, refusal
            assert str(refusal)  # the message renders (params fit the text)


@pytest.mark.parametrize(
    ("case", "field", "value", "rule"),
    [
        ("allocation_set", "amount", Decimal("1E+30"), "R5"),
        ("allocation_set", "amount", Decimal("sNaN"), "R5"),
        ("allocation_set", "amount", 0.1, "R5"),
        ("allocation_set", "amount", "12.345", "R5"),
        ("allocation_set", "note", "a\x00b", "invalid"),
        ("plan_transition", "action", "publish", "R10"),
        ("plan_transition", "action", ["submit"], "R10"),
        ("project_create", "start_date", "2026-02-01", "R9"),
        ("project_create", "title", "x" * 251, "invalid"),
        ("project_create", "status", "paused", "R9"),
        ("project_create", "budget year", 2026.5, "R9"),
        ("project_update", "end_date", None, "R9"),
        ("indicator_save", "target", Decimal("Infinity"), "R13"),
        ("indicator_value_set", "year", "2026.0", "R13"),
        ("partner_save", "partner_type", None, "R8"),
        ("partner_save", "country", "KE", "invalid"),
        ("assessment_set", "score", 6, "R12"),
        ("post_save", "kind", "consulate", "R1"),
        ("fund_year_save", "year", "twenty", "R7"),
    ],
)
def test_each_odd_value_names_its_rule_and_field(world, case, field, value, rule):
    call, _fields = CASES[case]
    with pytest.raises(FundRuleError) as refusal:
        call(world, field, value)
    assert refusal.value.rule == rule, refusal.value
    expected_field = field.split(" ")[0]
    assert refusal.value.field == expected_field, refusal.value.field


VALID = {
    "fund_year_save": ("envelope", Decimal("20000000.00")),
    "post_save": ("kind", PostKind.BILATERAL),
    "participation_set": ("selected", True),
    "assessment_set": ("criterion", "impact"),
    "allocation_set": ("amount", "900000.00"),
    "plan_create": ("narrative", "ok"),
    "plan_update": ("narrative", "ok"),
    "plan_priorities_set": ("items", [ChosenPriority("women_girls", "1.00")]),
    "plan_transition": ("action", "submit"),
    "partner_save": ("name", "Another partner"),
    "project_create": ("title", "Valid"),
    "projects_bulk_create": ("title", "Valid"),
    "project_update": ("title", "Valid"),
    "disbursement_create": ("date", date(2026, 4, 1)),
    "indicator_save": ("name", "Valid"),
    "indicator_value_set": ("year", 2026),
    "participation_publish": ("published", True),
    "annual_report_create": ("summary", "ok"),
    "annual_report_update": ("summary", "ok"),
    "annual_report_transition": ("action", "submit"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_baseline_call_of_every_case_succeeds(world, case):
    """The cases start from calls that succeed, so a refusal above comes from the odd value."""
    assert set(VALID) == set(CASES)
    call, fields = CASES[case]
    field, value = VALID[case]
    assert field in fields
    with rolled_back():
        call(world, field, value)
