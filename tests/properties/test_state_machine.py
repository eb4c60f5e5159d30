"""Stateful property test: random service calls by random actors never break R1–R13.

A Hypothesis `RuleBasedStateMachine` drives sequences of writes through the service layer
(`countries.services`, `grants.services`) as one of nine actors — a superuser, a system actor,
the three ministry roles, an editor and a viewer of post A, an editor of post B, and no actor
at all — on a small world: fund years 2025 (history), 2026 and 2027; four posts the machine
works on (A, B, C bilateral, M multilateral) plus filler posts that take the other seats of
2026, so that selections compete for the last ones (R1); plans, partners, projects, budget
lines, payments and results, part of them loaded for 2025 by a historical import (R7).

Every rule accepts success or `FundRuleError`; anything else fails the test. Where the access
policy decides the outcome (an actor without the role, a viewer, an embassy user on another
post's object), the rule asserts the refusal, its rule id ("forbidden" or "R11") and that
nothing changed. After every step the invariants re-check every rule with their own ORM
queries and sums, never with the services' or selectors' helpers.

Each example runs in a savepoint that is rolled back, so examples never see each other's rows;
the world itself is built once per test, inside pytest-django's transaction. The invariants
read the database again after each step that wrote (a step that ran no INSERT, UPDATE or
DELETE cannot have changed it).

Sequences the machine found that broke a rule are pinned below as plain examples.

Profiles: `HYPOTHESIS_PROFILE=long` for a long run (1000 examples × 50 steps); the default
"ci" profile keeps the module well under two minutes on SQLite.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import wraps
from itertools import pairwise

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from countries import services as country_services
from countries.models import Country, Participation, Post, PostMembership
from fund.access import ensure_roles, system_actor
from fund.checks import FundRuleError
from grants import services
from grants.models import (
    Allocation,
    AnnualPlan,
    BudgetLine,
    Disbursement,
    FundYear,
    Indicator,
    IndicatorValue,
    Partner,
    PlanPriority,
    PlanTransition,
    Project,
)
from grants.services import ChosenPriority
from priorities.models import IntendedResult, Priority

# --------------------------------------------------------------------------------------------
# Settings

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci",
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    database=None,
    derandomize=False,
    report_multiple_bugs=False,
    suppress_health_check=_HEALTH,
)
settings.register_profile(
    "long",
    max_examples=1000,
    stateful_step_count=50,
    deadline=None,
    database=None,
    derandomize=False,
    report_multiple_bugs=False,
    suppress_health_check=_HEALTH,
)


def _profile() -> settings:
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    try:
        return settings.get_profile(name)
    except InvalidArgument:  # a profile this module does not know: keep the CI bounds
        return settings.get_profile("ci")


# --------------------------------------------------------------------------------------------
# The rules' own numbers, written here again so that the invariants don't trust the code

REFORM = 2026
MAX_BILATERAL = 31
MAX_MULTILATERAL = 5
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
NOT_COUNTING = "cancelled"  # the one project status whose money does not count (R5, R4, R6)
COMMITTED = {"active", "completed"}  # the statuses that may hold payments (R5)
PLAN_STATUSES = {"draft", "submitted", "returned", "approved", "amending"}
FROZEN_PLAN_STATUSES = {"submitted", "approved"}  # R10: changed only by an amendment

# --------------------------------------------------------------------------------------------
# Actors and what the access policy lets each of them do (independently restated)

ACTORS = (
    "superuser",
    "system",
    "fondsbeheerder",
    "beoordelaar",
    "alleen-lezen",
    "editor_a",
    "viewer_a",
    "editor_b",
    "none",
)
ALL_POWERFUL = {"superuser", "system"}
MINISTRY_MAY = {
    "fondsbeheerder": {"fund_year", "select", "allocate", "pay"},
    "beoordelaar": {"submit", "review"},
    "alleen-lezen": set(),
}
EDITOR_MAY = {"edit_plan", "submit", "partner", "project", "results"}
EMBASSY = {"editor_a": ("A", True), "viewer_a": ("A", False), "editor_b": ("B", True)}

# --------------------------------------------------------------------------------------------
# Small value sets, so that rules collide often

YEARS = st.sampled_from((2026, 2027, 2025))
POSTS = ("A", "B", "C", "M")
SELECTABLE = (*POSTS, "FB", "FM")  # FB/FM: a bilateral and a multilateral filler post
# "own": the acting embassy user's post (post A for everyone else), so that most calls reach
# the rules behind the access policy; the named posts exercise R11.
TARGETS = st.sampled_from(("own", "own", "own", "own", *POSTS))


def money(*values: str):
    """Amounts from a small set (the first ones most likely kept when shrinking)."""
    return st.sampled_from(tuple(Decimal(value) for value in values))


# Mostly valid amounts, sometimes negative or with fractions of cents (R5).
MONEY = money("400000.00", "100000.00", "250000.50", "0.00", "1000000.00", "400000.00", "-100.00")
BUDGET_MONEY = money(
    "100000.00",
    "50000.00",
    "250000.50",
    "100000.00",
    "50000.00",
    "400000.00",
    "0.00",
    "100000.00",
    "-100.00",
    "0.005",
)
PAYMENTS = money("25000.00", "100000.00", "12500.50", "25000.00", "0.00", "400000.00", "0.001")
ALLOCATIONS = st.sampled_from(
    tuple(Decimal(v) for v in ("1000000.00", "0.00", "400000.00", "1500000.00", "600000.25"))
)
ENVELOPES = st.sampled_from(
    tuple(Decimal(v) for v in ("3000000.00", "0.00", "1000000.00", "2000000.00", "5000000.00"))
)
HISTORY = st.sampled_from((False, False, False, False, False, True))
CODES = st.sampled_from(
    (
        "women_girls",
        "lgbtiq",
        "expression",
        "women_girls",
        "lgbtiq",
        "accountability",
        "religion_belief",
        "defenders_civic_space",
    )
)
STATUSES = st.sampled_from(("active", "planned", "active", "completed", "planned", "cancelled"))
STARTS = st.sampled_from((date(2026, 3, 1), date(2026, 7, 1), date(2027, 1, 1), date(2025, 7, 1)))
# The end as (years after the start year, month, day); the last one ends before the start (R9).
ENDS = st.sampled_from(
    ((1, 6, 30), (0, 12, 31), (1, 12, 31), (1, 6, 30), (0, 12, 31), (-1, 12, 31))
)
# A budget as (years after the start year, amount); -1 and 2 may fall outside the period (R9).
BUDGETS = st.lists(st.tuples(st.sampled_from((0, 1, 0, 1, 0, 2, -1)), BUDGET_MONEY), max_size=2)
RESULTS = st.sampled_from(("own", "own", "none", "own", "foreign"))
PAY_DATES = st.sampled_from(
    tuple(date(y, m, 15) for y in (2026, 2027, 2026, 2025, 2028) for m in (6, 1, 12))
)
INDEX = st.integers(min_value=0, max_value=30)
# Mostly the newest projects (those the machine made), sometimes any.
PROJECT_INDEX = st.sampled_from((-1, -1, -2, -3, 0, 1, 2, 3, 4, 5))
# None: the post's own partner; an index: any partner, often another post's (R11).
PARTNERS = st.sampled_from((None, None, None, 0, 1, 2, 3, 4, 5, 6, 7))


def end_date(start: date, end) -> date:
    years, month, day = end
    return date(start.year + years, month, day)


def budget_of(start: date, budget) -> dict[int, Decimal]:
    return {start.year + offset: amount for offset, amount in budget}


def actors(*likely: str):
    """Mostly an actor who may act, otherwise anyone (to exercise the refusals)."""
    return st.one_of(st.sampled_from(likely), st.sampled_from(likely), st.sampled_from(ACTORS))


# --------------------------------------------------------------------------------------------
# The world


@dataclass
class World:
    users: dict[str, object]
    posts: dict[str, int]
    fund_years: dict[int, int]
    results: dict[str, list[int]]  # priority code -> intended result pks


def build_world() -> World:
    """Everything through the services, as a superuser; history by a historical import."""
    ensure_roles()
    user_model = get_user_model()
    root = user_model.objects.create_superuser("prop-root", "root@example.invalid", "x-pw-12345")
    users: dict[str, object] = {"superuser": root, "system": system_actor("seed"), "none": None}
    for group in MINISTRY_MAY:
        user = user_model.objects.create_user(f"prop-{group}", password="x-pw-12345")
        user.groups.add(Group.objects.get(name=group))
        users[group] = user

    kenya = Country.objects.get(code="KE")

    def new_post(code: str, kind: str) -> Post:
        return country_services.post_save(
            actor=root,
            post=Post(code=code, name=f"Post {code}", kind=kind, city="Stad", host_country=kenya),
        )

    fund_years = {}
    for year, envelope in ((2025, "4000000.00"), (2026, "3000000.00"), (2027, "2000000.00")):
        fund_years[year] = services.fund_year_save(
            actor=root,
            fund_year=FundYear(
                year=year,
                envelope=Decimal(envelope),
                plan_submission_deadline=date(year - 1, 11, 15),
                review_deadline=date(year - 1, 12, 15),
                min_project_size=Decimal("50000.00"),
            ),
            history_import=year < REFORM,
        )
    posts = {
        "A": new_post("PROP-A", "bilateral"),
        "B": new_post("PROP-B", "bilateral"),
        "C": new_post("PROP-C", "bilateral"),
        "M": new_post("PROP-M", "multilateral"),
    }
    for key, (post_key, edits) in EMBASSY.items():
        user = user_model.objects.create_user(f"prop-{key}", password="x-pw-12345")
        PostMembership.objects.create(
            user=user, post=posts[post_key], role="editor" if edits else "viewer"
        )
        users[key] = user

    # R1: fillers take 29 bilateral seats of 2026 (A and B take the last two below) and all
    # 5 multilateral seats, so C waits for B or FB to leave and M waits for FM.
    fillers = [new_post(f"PROP-FB{i:02d}", "bilateral") for i in range(1, 30)]
    fillers += [new_post(f"PROP-FM{i:02d}", "multilateral") for i in range(1, 6)]
    for filler in fillers:
        country_services.participation_set(
            actor=root, post=filler, fund_year=fund_years[2026], selected=True
        )
    posts["FB"], posts["FM"] = fillers[0], fillers[29]

    def prio(code):
        return Priority.objects.get(code=code)

    def result(code):
        return IntendedResult.objects.filter(priority__code=code).order_by("position").first()

    def participate(post, year, amount):
        history = year < REFORM
        country_services.participation_set(
            actor=root,
            post=post,
            fund_year=fund_years[year],
            selected=True,
            history_import=history,
        )
        services.allocation_set(
            actor=root,
            post=post,
            fund_year=fund_years[year],
            amount=Decimal(amount),
            history_import=history,
        )

    def plan(post, year, code, amount):
        history = year < REFORM
        made = services.plan_create(
            actor=root, post=post, fund_year=fund_years[year], history_import=history
        )
        services.plan_priorities_set(
            actor=root,
            plan=made,
            items=[ChosenPriority(code, Decimal(amount))],
            history_import=history,
        )
        return made

    # 2025: history of posts A and B, loaded by a historical import (R7).
    participate(posts["A"], 2025, "1000000.00")
    participate(posts["B"], 2025, "500000.00")
    plan_a_2025 = plan(posts["A"], 2025, "women_girls", "600000.00")
    for action in ("submit", "approve"):
        services.plan_transition(actor=root, plan=plan_a_2025, action=action, history_import=True)
    plan(posts["B"], 2025, "lgbtiq", "200000.00")
    # 2026 and 2027: A takes part with draft plans; B takes 2026's last bilateral seat (R1);
    # M takes part in 2027.
    participate(posts["A"], 2026, "500000.00")  # little headroom: overspending is near (R5)
    plan(posts["A"], 2026, "women_girls", "400000.00")
    participate(posts["B"], 2026, "500000.00")
    plan(posts["B"], 2026, "lgbtiq", "200000.00")
    participate(posts["A"], 2027, "600000.00")
    services.plan_priorities_set(
        actor=root,
        plan=plan(posts["A"], 2027, "women_girls", "300000.00"),
        items=[
            ChosenPriority("women_girls", Decimal("300000.00")),
            ChosenPriority("lgbtiq", Decimal("200000.00")),
        ],
    )
    participate(posts["M"], 2027, "300000.00")
    plan(posts["M"], 2027, "accountability", "100000.00")

    partners = {}
    for key, name in (("A", "Alfa"), ("A", "Open Stem"), ("B", "Beta"), ("C", "Gamma")):
        partners[name] = services.partner_save(
            actor=root, post=posts[key], name=name, partner_type="local_cso", country=kenya
        )
    partners["Multi"] = services.partner_save(
        actor=root, post=posts["M"], name="Multi", partner_type="multilateral", country=kenya
    )

    def project(post, partner, code, start, end, budget, status, paid=None, values=()):
        history = start.year < REFORM
        made = services.project_create(
            actor=root,
            post=post,
            partner=partner,
            priority=prio(code),
            title=f"{post.code} {start.isoformat()}",
            start_date=start,
            end_date=end,
            status=status,
            intended_results=[result(code)],
            budget={year: Decimal(amount) for year, amount in budget.items()},
            history_import=history,
        )
        if paid:
            services.disbursement_create(
                actor=root,
                project=made,
                date=paid[0],
                amount=Decimal(paid[1]),
                history_import=paid[0].year < REFORM,
            )
        if values:
            indicator = services.indicator_save(
                actor=root,
                project=made,
                intended_result=result(code),
                name="Bereik",
                unit="personen",
                baseline=0,
                target=100,
                history_import=end.year < REFORM,
            )
            for year, value in values:
                services.indicator_value_set(
                    actor=root,
                    indicator=indicator,
                    year=year,
                    value=value,
                    history_import=year < REFORM,
                )
        return made

    project(
        posts["A"],
        partners["Alfa"],
        "women_girls",
        date(2025, 1, 1),
        date(2025, 12, 31),
        {2025: "300000.00"},
        "completed",
        paid=(date(2025, 5, 1), "100000.00"),
        values=[(2025, 40)],
    )
    # Spans the reform: money in 2025 (history) and 2026.
    project(
        posts["A"],
        partners["Alfa"],
        "women_girls",
        date(2025, 7, 1),
        date(2026, 12, 31),
        {2025: "200000.00", 2026: "100000.00"},
        "active",
        paid=(date(2025, 8, 1), "50000.00"),
        values=[(2025, 10), (2026, 20)],
    )
    project(
        posts["B"],
        partners["Beta"],
        "lgbtiq",
        date(2025, 2, 1),
        date(2025, 11, 30),
        {2025: "100000.00"},
        "planned",
    )
    project(
        posts["A"],
        partners["Open Stem"],
        "women_girls",
        date(2026, 3, 1),
        date(2027, 6, 30),
        {2026: "200000.00", 2027: "100000.00"},
        "active",
        paid=(date(2026, 4, 1), "50000.00"),
        values=[(2026, 5)],
    )
    # Started in 2025 without any budget line: it belongs to its start year (R4, R6).
    project(
        posts["A"],
        partners["Open Stem"],
        "women_girls",
        date(2025, 3, 1),
        date(2026, 6, 30),
        {},
        "planned",
    )
    # Started in 2025, before M took part, with money only from 2027: loaded by a historical
    # import, since it starts before the reform (R7).
    project(
        posts["M"],
        partners["Multi"],
        "accountability",
        date(2025, 9, 1),
        date(2027, 12, 31),
        {2027: "100000.00"},
        "planned",
    )

    return World(
        users=users,
        posts={key: post.pk for key, post in posts.items()},
        fund_years={year: fy.pk for year, fy in fund_years.items()},
        results={
            code: list(
                IntendedResult.objects.filter(priority__code=code)
                .order_by("position")
                .values_list("pk", flat=True)
            )
            for code in Priority.objects.values_list("code", flat=True)
        },
    )


# --------------------------------------------------------------------------------------------
# Independent views of the database


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriteDetector:
    """Notes whether a call ran any statement that changes rows (SAVEPOINT and
    SELECT … FOR UPDATE don't); installed with `connection.execute_wrapper`."""

    def __init__(self):
        self.wrote = False

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(WRITES):
            self.wrote = True
        return execute(sql, params, many, context)


def _rows(queryset, *fields) -> list[dict]:
    return list(queryset.order_by("pk").values(*fields))


@dataclass
class View:
    """Every row the services write, read with plain ORM queries (one per table), plus the
    years each project belongs to (R4, R6): those of its budget lines or, without any, its
    start year."""

    fund_years: list[dict]
    participations: list[dict]
    allocations: list[dict]
    plans: list[dict]
    plan_priorities: list[dict]
    transitions: list[dict]
    projects: dict[int, dict]
    lines: list[dict]
    disbursements: list[dict]
    indicators: list[dict]
    values: list[dict]
    results: list[dict]

    @classmethod
    def read(cls) -> View:
        view = cls(
            fund_years=_rows(
                FundYear.objects, "pk", "year", "envelope", "min_project_size",
                "plan_submission_deadline", "review_deadline",
            ),
            participations=_rows(
                Participation.objects, "pk", "post_id", "post__kind", "fund_year__year",
                "selected", "decision_note",
            ),
            allocations=_rows(
                Allocation.objects, "pk", "post_id", "fund_year__year", "amount", "note"
            ),
            plans=_rows(
                AnnualPlan.objects, "pk", "post_id", "fund_year__year", "status", "version",
                "narrative",
            ),
            plan_priorities=_rows(
                PlanPriority.objects, "pk", "plan_id", "slot", "priority_id", "amount"
            ),
            transitions=_rows(
                PlanTransition.objects, "pk", "plan_id", "from_status", "to_status", "version",
                "comment",
            ),
            projects={
                row["pk"]: row
                for row in _rows(
                    Project.objects, "pk", "post_id", "partner_id", "partner__post_id",
                    "priority_id", "title", "description", "start_date", "end_date", "status",
                )
            },
            lines=_rows(BudgetLine.objects, "pk", "project_id", "year", "amount"),
            disbursements=_rows(
                Disbursement.objects, "pk", "project_id", "date", "amount", "reference"
            ),
            indicators=_rows(
                Indicator.objects, "pk", "project_id", "intended_result_id", "name", "unit",
                "baseline", "target",
            ),
            values=_rows(IndicatorValue.objects, "pk", "indicator_id", "year", "value", "note"),
            results=_rows(
                Project.intended_results.through.objects, "pk", "project_id",
                "intendedresult_id", "intendedresult__priority_id",
            ),
        )  # fmt: skip
        for project in view.projects.values():
            project["lines"] = {}
        for line in view.lines:
            view.projects[line["project_id"]]["lines"][line["year"]] = line["amount"]
        for project in view.projects.values():
            project["years"] = set(project["lines"]) or {project["start_date"].year}
            project["counts"] = project["status"] != NOT_COUNTING
        return view

    def history(self) -> dict:
        """R7: every row of the years before the reform, and what pre-reform records say."""
        old_plans = {plan["pk"] for plan in self.plans if plan["fund_year__year"] < REFORM}
        ended = {pk for pk, p in self.projects.items() if p["end_date"].year < REFORM}
        old_values = {value["indicator_id"] for value in self.values if value["year"] < REFORM}
        no_budget = [p for p in self.projects.values() if not p["lines"]]

        def plain(project):
            return {k: v for k, v in project.items() if k not in ("lines", "years", "counts")}

        return {
            "fund years": [fy for fy in self.fund_years if fy["year"] < REFORM],
            "participations": [p for p in self.participations if p["fund_year__year"] < REFORM],
            "allocations": [a for a in self.allocations if a["fund_year__year"] < REFORM],
            "plans": [plan for plan in self.plans if plan["pk"] in old_plans],
            "plan priorities": [pp for pp in self.plan_priorities if pp["plan_id"] in old_plans],
            "plan transitions": [t for t in self.transitions if t["plan_id"] in old_plans],
            "budget lines": [line for line in self.lines if line["year"] < REFORM],
            "disbursements": [d for d in self.disbursements if d["date"].year < REFORM],
            "indicator values": [v for v in self.values if v["year"] < REFORM],
            "projects ended": [plain(self.projects[pk]) for pk in sorted(ended)],
            "results of projects ended": [r for r in self.results if r["project_id"] in ended],
            "indicators of projects ended": [
                i for i in self.indicators if i["project_id"] in ended
            ],
            # A pre-reform value was measured against what its indicator says.
            "indicators with pre-reform values": [
                i for i in self.indicators if i["pk"] in old_values
            ],
            # A project without budget lines belongs to its start year (R4, R6): which
            # projects belong to a pre-reform year that way, and whether they count there, is
            # history too (a project entering or leaving such a year, or changing its status,
            # touches that year).
            "start-year projects": [
                (p["pk"], p["counts"]) for p in no_budget if p["start_date"].year < REFORM
            ],
            # Keyed by project, so that new projects don't count: projects started before the
            # reform keep their start, and money of a pre-reform year keeps its project's
            # priority, partner and whether it counts (README: such a change "touches all its
            # years").
            "started before": {
                pk: p["start_date"]
                for pk, p in self.projects.items()
                if p["start_date"].year < REFORM
            },
            "pre-reform money labels": {
                pk: (p["priority_id"], p["partner_id"], p["counts"])
                for pk, p in self.projects.items()
                if any(year < REFORM for year in p["lines"])
            },
        }


def _compare_history(baseline: dict, now: dict) -> list[str]:
    broken = []
    for key, rows in baseline.items():
        if isinstance(rows, dict):
            changed = {pk: (v, now[key].get(pk)) for pk, v in rows.items() if now[key].get(pk) != v}
            if changed:
                broken.append(f"{key}: {changed}")
        elif rows != now[key]:
            broken.append(f"{key}: {rows} -> {now[key]}")
    return broken


def _quantized(amount: Decimal) -> bool:
    return amount == amount.quantize(CENT)


# --------------------------------------------------------------------------------------------
# The machine


def once_per_version(check):
    """Run an invariant after every step that wrote, skip it when the database is as it was
    when the invariant last passed."""

    @wraps(check)
    def wrapper(self):
        if self.checked.get(check.__name__) != self.version:
            check(self)
            self.checked[check.__name__] = self.version

    return wrapper


class FundMachine(RuleBasedStateMachine):
    """Random service calls by random actors; every rule R1–R13 checked after each step."""

    def __init__(self, world: World):
        super().__init__()
        self.world = world
        self._view: View | None = View.read()
        self.history = self._view.history()
        self.frozen_plans: dict[int, tuple] = {}
        # Raised by every call that wrote; each invariant checks each version once (a call
        # that ran no INSERT, UPDATE or DELETE cannot have broken anything).
        self.version = 1
        self.checked: dict[str, int] = {}
        # Everything this example writes is rolled back in teardown (a savepoint inside
        # pytest-django's transaction, on SQLite and PostgreSQL alike).
        self._atomic = transaction.atomic()
        self._atomic.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # ---------------------------------------------------------------- helpers

    def post(self, key: str) -> Post:
        return Post.objects.get(pk=self.world.posts[key])

    def target(self, actor: str, key: str) -> Post:
        """The post a call is about: "own" is the embassy user's post (post A otherwise)."""
        if key == "own":
            key = EMBASSY[actor][0] if actor in EMBASSY else "A"
        return self.post(key)

    def fund_year(self, year: int) -> FundYear:
        return FundYear.objects.get(pk=self.world.fund_years[year])

    @staticmethod
    def pick(queryset, index: int):
        rows = list(queryset.order_by("pk"))
        return rows[index % len(rows)] if rows else None

    def _refusal(self, actor: str, action: str, post_id: int | None):
        """What the access policy says to one actor, action and object's post."""
        if actor in ALL_POWERFUL:
            return None
        if actor == "none":
            return {"forbidden"}
        if actor in EMBASSY:
            post_key, edits = EMBASSY[actor]
            if post_id is not None and post_id != self.world.posts[post_key]:
                return {"R11"}  # another post's object is unknown, never "forbidden"
            if post_id is None or not edits or action not in EDITOR_MAY:
                return {"forbidden"}  # embassy staff never act fund-wide
        elif action not in MINISTRY_MAY[actor]:
            return {"forbidden"}
        return None

    def denial(self, actor: str, action: str, posts=(), *, history_import=False, between=()):
        """The refusal the access policy must give (a set of acceptable rule ids), or None
        when access is granted and other rules decide.

        `posts` are the posts of the objects the service checks, in its order; `between` are
        rules the service may check on the first object before it reaches the next ones.
        """
        first, *others = posts or [None]
        refusal = self._refusal(actor, action, first)
        if refusal is None and history_import and actor not in ALL_POWERFUL:
            refusal = {"forbidden"}  # R7: only superusers and system actors import history
        for post_id in others:
            if refusal is not None:
                break
            refusal = self._refusal(actor, action, post_id)
            if refusal is not None:
                refusal = refusal | set(between)
        return refusal

    def attempt(self, label: str, actor: str, expected, call, *, history_import=False):
        """Run one service call; success or FundRuleError, and the refusal access demands.

        A refusal by the access policy must come before any write: not a single INSERT,
        UPDATE or DELETE may have run, so nothing changed.
        """
        user = self.world.users[actor]
        writes = WriteDetector()
        with connection.execute_wrapper(writes):
            try:
                result = call(user)
            except FundRuleError as error:
                result, refusal = None, error
            else:
                refusal = None
        if writes.wrote:
            self.version += 1  # the invariants look again (a refusal's savepoint is undone)
            self._view = None
        if refusal is not None:
            event(f"{label}: refused [{refusal.rule}]")
            if expected is not None:
                assert refusal.rule in expected, (
                    f"{label} by {actor}: expected a refusal {sorted(expected)}, got {refusal}"
                )
                assert not writes.wrote, (
                    f"{label} by {actor} was refused by the access policy after writing"
                )
            return None
        event(f"{label}: done")
        assert expected is None, (
            f"{label} by {actor} succeeded; the access policy demands {sorted(expected)}"
        )
        if history_import:
            # A historical import may write the past (R7): that is the new baseline.
            self.history = self.view().history()
        return result

    # ---------------------------------------------------------------- fund and posts (R1, R5–R7)

    @rule(
        actor=actors("fondsbeheerder", "superuser"),
        post=st.sampled_from(SELECTABLE),
        year=YEARS,
        selected=st.booleans(),
        history=HISTORY,
    )
    def select_post_r1_r6(self, actor, post, year, selected, history):
        post, fund_year = self.post(post), self.fund_year(year)
        self.attempt(
            "participation_set",
            actor,
            self.denial(actor, "select", [post.pk], history_import=history),
            lambda user: country_services.participation_set(
                actor=user,
                post=post,
                fund_year=fund_year,
                selected=selected,
                history_import=history,
            ),
            history_import=history,
        )

    @rule(
        actor=actors("fondsbeheerder", "superuser"),
        post=st.sampled_from((*POSTS, "FB")),
        year=YEARS,
        amount=ALLOCATIONS,
        history=HISTORY,
    )
    def allocate_r5_r6(self, actor, post, year, amount, history):
        post, fund_year = self.post(post), self.fund_year(year)
        self.attempt(
            "allocation_set",
            actor,
            self.denial(actor, "allocate", [post.pk], history_import=history),
            lambda user: services.allocation_set(
                actor=user,
                post=post,
                fund_year=fund_year,
                amount=amount,
                history_import=history,
            ),
            history_import=history,
        )

    @rule(actor=actors("fondsbeheerder"), year=YEARS, envelope=ENVELOPES, history=HISTORY)
    def set_envelope_r5_r7(self, actor, year, envelope, history):
        fund_year = self.fund_year(year)
        fund_year.envelope = envelope
        self.attempt(
            "fund_year_save",
            actor,
            self.denial(actor, "fund_year", history_import=history),
            lambda user: services.fund_year_save(
                actor=user, fund_year=fund_year, history_import=history
            ),
            history_import=history,
        )

    # ---------------------------------------------------------------- plans (R2, R4, R5, R10)

    def plan_of(self, actor, post, year) -> AnnualPlan | None:
        post = self.target(actor, post)
        return AnnualPlan.objects.filter(post=post, fund_year__year=year).first()

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        year=YEARS,
        history=HISTORY,
    )
    def create_plan_r6_r10(self, actor, post, year, history):
        post, fund_year = self.target(actor, post), self.fund_year(year)
        self.attempt(
            "plan_create",
            actor,
            self.denial(actor, "edit_plan", [post.pk], history_import=history),
            lambda user: services.plan_create(
                actor=user, post=post, fund_year=fund_year, history_import=history
            ),
            history_import=history,
        )

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        year=YEARS,
        items=st.lists(
            st.builds(ChosenPriority, CODES, MONEY),
            max_size=3,
            unique_by=lambda item: item.priority,
        ),
        history=HISTORY,
    )
    def choose_priorities_r2_r4_r5(self, actor, post, year, items, history):
        plan = self.plan_of(actor, post, year)
        if plan is None:
            return
        self.attempt(
            "plan_priorities_set",
            actor,
            self.denial(actor, "edit_plan", [plan.post_id], history_import=history),
            lambda user: services.plan_priorities_set(
                actor=user, plan=plan, items=items, history_import=history
            ),
            history_import=history,
        )

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        year=YEARS,
        narrative=st.sampled_from(("Focus op verdedigers.", "")),
        history=HISTORY,
    )
    def edit_plan_text_r7_r10(self, actor, post, year, narrative, history):
        plan = self.plan_of(actor, post, year)
        if plan is None:
            return
        self.attempt(
            "plan_update",
            actor,
            self.denial(actor, "edit_plan", [plan.post_id], history_import=history),
            lambda user: services.plan_update(
                actor=user, plan=plan, narrative=narrative, history_import=history
            ),
            history_import=history,
        )

    @rule(actor=actors("editor_a", "editor_b", "superuser"), post=TARGETS, year=YEARS)
    def withdraw_plan_r4_r6_r10(self, actor, post, year):
        plan = self.plan_of(actor, post, year)
        if plan is None:
            return
        self.attempt(
            "plan_withdraw",
            actor,
            self.denial(actor, "edit_plan", [plan.post_id]),
            lambda user: services.plan_withdraw(actor=user, plan=plan),
        )

    @rule(
        actor=actors("beoordelaar", "editor_a", "superuser"),
        post=TARGETS,
        year=YEARS,
        action=st.sampled_from(("submit", "approve", "return", "amend", "bogus")),
        comment=st.sampled_from(("Graag aanpassen.", "")),
        history=HISTORY,
    )
    def move_plan_r10(self, actor, post, year, action, comment, history):
        plan = self.plan_of(actor, post, year)
        if plan is None:
            return
        if action == "bogus":
            # Not a step of the cycle, whoever asks (a caller without any role in the fund may
            # be sent away before the action is read).
            expected = {"R10", "forbidden"} if actor == "none" else {"R10"}
        else:
            needed = "submit" if action == "submit" else "review"
            expected = self.denial(actor, needed, [plan.post_id], history_import=history)
        self.attempt(
            f"plan_transition {action}",
            actor,
            expected,
            lambda user: services.plan_transition(
                actor=user, plan=plan, action=action, comment=comment, history_import=history
            ),
            history_import=history,
        )

    # ---------------------------------------------------------------- partners (R8, R11)

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        name=st.sampled_from(("Nieuw Licht", "Alfa", "Veilig Huis")),
        existing=st.none() | INDEX,
        partner_type=st.sampled_from(("local_cso", "nhri", "international_ngo", "bogus")),
    )
    def save_partner_r8_r11(self, actor, post, name, existing, partner_type):
        post = self.target(actor, post)
        partner = None if existing is None else self.pick(Partner.objects.all(), existing)
        involved = [post.pk] if partner is None else [partner.post_id, post.pk]
        self.attempt(
            "partner_save",
            actor,
            self.denial(actor, "partner", involved),
            lambda user: services.partner_save(
                actor=user,
                post=post,
                name=name,
                partner_type=partner_type,
                country=Country.objects.get(code="KE"),
                partner=partner,
            ),
        )

    @rule(actor=actors("editor_a", "editor_b", "superuser"), post=TARGETS, index=INDEX)
    def delete_partner_r11(self, actor, post, index):
        partner = self.pick(Partner.objects.filter(post=self.target(actor, post)), index)
        if partner is None:
            return
        self.attempt(
            "partner_delete",
            actor,
            self.denial(actor, "partner", [partner.post_id]),
            lambda user: services.partner_delete(actor=user, partner=partner),
        )

    # ---------------------------------------------------------------- projects (R4–R7, R9, R13)

    def _results(self, choice: str, code: str) -> list[IntendedResult]:
        if choice == "none":
            return []
        if choice == "foreign":
            code = "accountability" if code != "accountability" else "women_girls"
        return [IntendedResult.objects.get(pk=self.world.results[code][0])]

    def _partner(self, post: Post, index: int | None) -> Partner | None:
        """The post's own partner (index None) or any partner, maybe another post's (R11)."""
        if index is None:
            return self.pick(Partner.objects.filter(post=post), 0)
        return self.pick(Partner.objects.all(), index)

    def project_of(self, actor, post, index) -> Project | None:
        return self.pick(Project.objects.filter(post=self.target(actor, post)), index)

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        partner=PARTNERS,
        code=st.none() | CODES,
        start=STARTS,
        end=ENDS,
        budget=BUDGETS,
        status=STATUSES,
        results=RESULTS,
        history=HISTORY,
    )
    def create_project_r4_r5_r6_r9(
        self, actor, post, partner, code, start, end, budget, status, results, history
    ):
        post = self.target(actor, post)
        partner = self._partner(post, partner)
        if partner is None:
            return
        if code is None:  # a priority the post chose for the start year, if any (R4)
            chosen = PlanPriority.objects.filter(
                plan__post=post, plan__fund_year__year=start.year
            ).values_list("priority__code", flat=True)
            code = self.pick(chosen, index=0) or "women_girls"
        self.attempt(
            "project_create",
            actor,
            self.denial(actor, "project", [post.pk], history_import=history),
            lambda user: services.project_create(
                actor=user,
                post=post,
                partner=partner,
                priority=Priority.objects.get(code=code),
                title="Project",
                start_date=start,
                end_date=end_date(start, end),
                budget=budget_of(start, budget),
                status=status,
                intended_results=self._results(results, code),
                history_import=history,
            ),
            history_import=history,
        )

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        start=st.sampled_from(
            (date(2026, 3, 1), date(2027, 1, 1), date(2026, 7, 1), date(2025, 9, 1))
        ),
        years=st.sampled_from((0, 1, 2)),
        amounts=st.lists(money("100000.00", "400000.00", "250000.50", "0.00"), max_size=2),
        status=st.sampled_from(("active", "planned", "completed")),
    )
    def create_plausible_project_r4_r5_r6(self, actor, post, start, years, amounts, status):
        """A project as a post would propose it: its own partner, a priority of its plan,
        money only in reformed years of its period; the rules (R4–R7) still decide."""
        post = self.target(actor, post)
        partner = self._partner(post, None)
        end = date(start.year + years, 12, 31)
        funded = [year for year in range(start.year, end.year + 1) if year >= REFORM]
        budget = dict(zip(funded, amounts, strict=False))
        code = self.pick(
            PlanPriority.objects.filter(
                plan__post=post, plan__fund_year__year=min(budget, default=start.year)
            ).values_list("priority__code", flat=True),
            0,
        )
        if partner is None or code is None:
            return
        self.attempt(
            "project_create (plausible)",
            actor,
            self.denial(actor, "project", [post.pk]),
            lambda user: services.project_create(
                actor=user,
                post=post,
                partner=partner,
                priority=Priority.objects.get(code=code),
                title="Voorstel",
                start_date=start,
                end_date=end,
                budget=budget,
                status=status,
                intended_results=self._results("own", code),
            ),
        )

    def _update(self, actor, project, history=False, budget=None, **changes):
        self.attempt(
            "project_update",
            actor,
            self.denial(actor, "project", [project.post_id], history_import=history),
            lambda user: services.project_update(
                actor=user, project=project, budget=budget, history_import=history, **changes
            ),
            history_import=history,
        )

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        index=PROJECT_INDEX,
        budget=BUDGETS,
    )
    def rebudget_project_r4_r5_r6_r7_r9(self, actor, post, index, budget):
        """Replace all budget lines (an empty budget leaves the start year, R4/R6)."""
        project = self.project_of(actor, post, index)
        if project is not None:
            self._update(actor, project, budget=budget_of(project.start_date, budget))

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        index=PROJECT_INDEX,
        status=STATUSES,
    )
    def set_project_status_r4_r5_r6_r7(self, actor, post, index, status):
        project = self.project_of(actor, post, index)
        if project is not None:
            self._update(actor, project, status=status)

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        index=PROJECT_INDEX,
        start=st.none() | STARTS,
        end=ENDS,
    )
    def move_project_r7_r9_r13(self, actor, post, index, start, end):
        project = self.project_of(actor, post, index)
        if project is None:
            return
        changes = {"end_date": end_date(start or project.start_date, end)}
        if start is not None:
            changes["start_date"] = start
        self._update(actor, project, **changes)

    @rule(
        actor=actors("fondsbeheerder", "superuser"),
        post=TARGETS,
        index=INDEX,
        amount=PAYMENTS,
    )
    def pay_plausible_r5(self, actor, post, index, amount):
        """A payment in a year the project has a budget line for, within its period."""
        line = self.pick(
            BudgetLine.objects.filter(
                project__post=self.target(actor, post),
                project__status__in=COMMITTED,
                year__gte=REFORM,
            ).select_related("project"),
            index,
        )
        if line is None:
            return
        project = line.project
        when = max(project.start_date, min(project.end_date, date(line.year, 6, 15)))
        self.attempt(
            "disbursement_create (plausible)",
            actor,
            self.denial(actor, "pay", [project.post_id]),
            lambda user: services.disbursement_create(
                actor=user, project=project, date=when, amount=amount
            ),
        )

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        index=PROJECT_INDEX,
        code=st.none() | CODES,
        status=st.none() | STATUSES,
        start=st.none() | STARTS,
        end=st.none() | ENDS,
        budget=st.none() | BUDGETS,
        results=st.none() | RESULTS,
        partner=st.sampled_from((None, None, None, "own", 0, 1, 2, 3)),
        history=HISTORY,
    )
    def update_project_r4_r5_r6_r7_r9_r13(
        self, actor, post, index, code, status, start, end, budget, results, partner, history
    ):
        project = self.project_of(actor, post, index)
        if project is None:
            return
        changes = {}
        if code is not None:
            changes["priority"] = Priority.objects.get(code=code)
        if status is not None:
            changes["status"] = status
        if start is not None:
            changes["start_date"] = start
        if end is not None:
            changes["end_date"] = end_date(start or project.start_date, end)
        if partner is not None:
            changes["partner"] = (
                self.pick(Partner.objects.filter(post_id=project.post_id), 1)
                if partner == "own"
                else self.pick(Partner.objects.all(), partner)
            )
        if results is not None:
            changes["intended_results"] = self._results(results, code or project.priority.code)
        new_budget = None if budget is None else budget_of(start or project.start_date, budget)
        self._update(actor, project, history, new_budget, **changes)

    @rule(
        actor=actors("fondsbeheerder", "superuser"),
        post=TARGETS,
        index=PROJECT_INDEX,
        when=PAY_DATES,
        amount=PAYMENTS,
        history=HISTORY,
    )
    def pay_r5_r9(self, actor, post, index, when, amount, history):
        project = self.project_of(actor, post, index)
        if project is None:
            return
        self.attempt(
            "disbursement_create",
            actor,
            self.denial(actor, "pay", [project.post_id], history_import=history),
            lambda user: services.disbursement_create(
                actor=user, project=project, date=when, amount=amount, history_import=history
            ),
            history_import=history,
        )

    # ---------------------------------------------------------------- results (R13)

    def indicator_of(self, actor, post, index) -> Indicator | None:
        return self.pick(
            Indicator.objects.filter(project__post=self.target(actor, post)).select_related(
                "project"
            ),
            index,
        )

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        index=PROJECT_INDEX,
        served=st.booleans(),
        result=INDEX,
        name=st.sampled_from(("Bereik", "Rapporten")),
        existing=st.none() | INDEX,
        goal=st.sampled_from((Decimal("100"), Decimal("12.5"), Decimal("0.125"))),
        history=HISTORY,
    )
    def save_indicator_r13(self, actor, post, index, served, result, name, existing, goal, history):
        project = self.project_of(actor, post, index)
        if project is None:
            return
        pool = project.intended_results.all() if served else IntendedResult.objects.all()
        intended_result = self.pick(pool, result) or self.pick(IntendedResult.objects, result)
        indicator = None
        if existing is not None:
            indicator = self.pick(Indicator.objects.select_related("project"), existing)
        # A given indicator is checked first (its post, then R7 for a project wholly before
        # the reform), then whether it belongs to the project (R13); the project is checked
        # only without an indicator. Neither R7 about one's own indicator nor R13 tells
        # anything about another post's project.
        if indicator is None:
            expected = self.denial(actor, "results", [project.post_id], history_import=history)
        else:
            expected = self.denial(
                actor,
                "results",
                [indicator.project.post_id, project.post_id],
                history_import=history,
                between=("R7", "R13"),
            )
        self.attempt(
            "indicator_save",
            actor,
            expected,
            lambda user: services.indicator_save(
                actor=user,
                project=project,
                intended_result=intended_result,
                name=name,
                unit="personen",
                baseline=Decimal("0"),
                target=goal,
                indicator=indicator,
                history_import=history,
            ),
            history_import=history,
        )

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        index=INDEX,
        year=st.sampled_from((2026, 2027, 2025, 2024, 2028)),
        value=st.sampled_from((Decimal("10"), Decimal("7.25"), Decimal("-3"), Decimal("0.001"))),
        history=HISTORY,
    )
    def report_value_r7_r13(self, actor, post, index, year, value, history):
        indicator = self.indicator_of(actor, post, index)
        if indicator is None:
            return
        self.attempt(
            "indicator_value_set",
            actor,
            self.denial(actor, "results", [indicator.project.post_id], history_import=history),
            lambda user: services.indicator_value_set(
                actor=user, indicator=indicator, year=year, value=value, history_import=history
            ),
            history_import=history,
        )

    @rule(
        actor=actors("editor_a", "editor_b", "superuser"),
        post=TARGETS,
        index=INDEX,
        year=st.sampled_from((2026, 2027, 2025)),
        whole_indicator=st.booleans(),
        history=HISTORY,
    )
    def withdraw_results_r7_r13(self, actor, post, index, year, whole_indicator, history):
        indicator = self.indicator_of(actor, post, index)
        if indicator is None:
            return
        expected = self.denial(
            actor, "results", [indicator.project.post_id], history_import=history
        )
        if whole_indicator:
            self.attempt(
                "indicator_delete",
                actor,
                expected,
                lambda user: services.indicator_delete(
                    actor=user, indicator=indicator, history_import=history
                ),
                history_import=history,
            )
        else:
            self.attempt(
                "indicator_value_delete",
                actor,
                expected,
                lambda user: services.indicator_value_delete(
                    actor=user, indicator=indicator, year=year, history_import=history
                ),
                history_import=history,
            )

    # ---------------------------------------------------------------- invariants

    def view(self) -> View:
        """The database as it is now, read once per change."""
        if self._view is None:
            self._view = View.read()
        return self._view

    @invariant()
    @once_per_version
    def r1_at_most_31_bilateral_and_5_multilateral_posts_per_year(self):
        counts = Counter(
            (p["fund_year__year"], p["post__kind"])
            for p in self.view().participations
            if p["selected"] and p["fund_year__year"] >= REFORM
        )
        for (year, kind), n in counts.items():
            limit = MAX_BILATERAL if kind == "bilateral" else MAX_MULTILATERAL
            assert n <= limit, f"R1: {n} {kind} posts selected for {year}"

    @invariant()
    @once_per_version
    def r2_at_most_two_distinct_priorities_per_plan(self):
        chosen = defaultdict(list)
        for pp in self.view().plan_priorities:
            assert pp["slot"] in (1, 2), f"R2: slot {pp}"
            chosen[pp["plan_id"]].append(pp["priority_id"])
        for plan_id, priorities in chosen.items():
            assert len(priorities) <= 2, f"R2: plan {plan_id} chooses {priorities}"
            assert len(set(priorities)) == len(priorities), f"R2: plan {plan_id} {priorities}"

    @invariant()
    @once_per_version
    def r4_projects_serve_their_posts_chosen_priorities(self):
        view = self.view()
        plan_of = {plan["pk"]: plan for plan in view.plans}
        chosen = defaultdict(set)
        for pp in view.plan_priorities:
            plan = plan_of[pp["plan_id"]]
            chosen[plan["post_id"], plan["fund_year__year"]].add(pp["priority_id"])
        for project in view.projects.values():
            for year in project["years"] if project["counts"] else ():
                plan_choice = chosen[project["post_id"], year]
                if year >= REFORM:
                    assert project["priority_id"] in plan_choice, (
                        f"R4: project {project['pk']} runs in {year} under priority "
                        f"{project['priority_id']}; the plan chose {plan_choice}"
                    )

    @invariant()
    @once_per_version
    def r5_money_within_allocations_envelopes_and_budgets(self):
        view = self.view()
        allocated = {(a["post_id"], a["fund_year__year"]): a["amount"] for a in view.allocations}
        counted = defaultdict(lambda: ZERO)
        for project in view.projects.values():
            for year, amount in project["lines"].items() if project["counts"] else ():
                counted[project["post_id"], year] += amount
        for key, total in counted.items():
            assert total <= allocated.get(key, ZERO), f"R5: projects of {key} take {total}"
        per_year = defaultdict(lambda: ZERO)
        for allocation in view.allocations:
            per_year[allocation["fund_year__year"]] += allocation["amount"]
        for fund_year in view.fund_years:
            assert per_year[fund_year["year"]] <= fund_year["envelope"], (
                f"R5: {fund_year['year']} allocates {per_year[fund_year['year']]}"
            )
        plan_of = {plan["pk"]: plan for plan in view.plans}
        planned = defaultdict(lambda: ZERO)
        for pp in view.plan_priorities:
            plan = plan_of[pp["plan_id"]]
            planned[plan["post_id"], plan["fund_year__year"]] += pp["amount"]
        for key, total in planned.items():
            assert total <= allocated.get(key, ZERO), f"R5: the plan of {key} divides {total}"
        paid = defaultdict(lambda: ZERO)
        for payment in view.disbursements:
            project = view.projects[payment["project_id"]]
            assert payment["amount"] > 0 and _quantized(payment["amount"]), f"R5: {payment}"
            assert project["status"] in COMMITTED, f"R5: paid to a {project['status']} project"
            paid[project["pk"], payment["date"].year] += payment["amount"]
        for (project_id, year), total in paid.items():
            budget = view.projects[project_id]["lines"].get(year, ZERO)
            assert total <= budget, f"R5: project {project_id} paid {total} in {year}"
        amounts = [
            *(fy["envelope"] for fy in view.fund_years),
            *(fy["min_project_size"] for fy in view.fund_years),
            *allocated.values(),
            *(pp["amount"] for pp in view.plan_priorities),
            *(line["amount"] for line in view.lines),
        ]
        for amount in amounts:
            assert amount >= 0 and _quantized(amount), f"R5: amount {amount}"

    @invariant()
    @once_per_version
    def r6_only_selected_posts_get_money_plans_and_projects(self):
        view = self.view()
        selected = {
            (p["post_id"], p["fund_year__year"]) for p in view.participations if p["selected"]
        }
        for allocation in view.allocations:
            key = (allocation["post_id"], allocation["fund_year__year"])
            assert allocation["amount"] == 0 or key in selected, f"R6: allocation {key}"
        for plan in view.plans:
            key = (plan["post_id"], plan["fund_year__year"])
            assert key in selected, f"R6: plan {key}"
        for project in view.projects.values():
            for year in project["years"] if project["counts"] else ():
                assert (project["post_id"], year) in selected, (
                    f"R6: project {project['pk']} of post {project['post_id']} belongs to "
                    f"{year}, a year the post does not take part in"
                )

    @invariant()
    @once_per_version
    def r7_years_before_the_reform_stay_as_imported(self):
        broken = _compare_history(self.history, self.view().history())
        assert not broken, "R7: " + "; ".join(broken)

    @invariant()
    @once_per_version
    def r9_periods_budget_years_and_payments(self):
        view = self.view()
        for project in view.projects.values():
            start, end = project["start_date"], project["end_date"]
            assert end > start, f"R9: project {project['pk']} ends before it starts"
            for year in project["lines"]:
                assert start.year <= year <= end.year, f"R9: {project['pk']} has money in {year}"
        for payment in view.disbursements:
            project = view.projects[payment["project_id"]]
            assert project["start_date"] <= payment["date"] <= project["end_date"], (
                f"R9: payment {payment} outside project {project['pk']}"
            )

    @invariant()
    @once_per_version
    def r10_one_plan_per_post_and_year_and_a_complete_trail(self):
        view = self.view()
        plans = Counter((plan["post_id"], plan["fund_year__year"]) for plan in view.plans)
        assert max(plans.values(), default=0) <= 1, f"R10: {plans.most_common(1)}"
        trail, chosen = defaultdict(list), defaultdict(list)
        for step in view.transitions:  # in the order they were recorded
            trail[step["plan_id"]].append((step["from_status"], step["to_status"]))
        for pp in view.plan_priorities:
            chosen[pp["plan_id"]].append((pp["priority_id"], pp["amount"]))
        frozen = {}
        for plan in view.plans:
            pk, steps = plan["pk"], trail[plan["pk"]]
            assert plan["status"] in PLAN_STATUSES, f"R10: status {plan['status']}"
            assert steps and steps[0][0] == "", f"R10: plan {pk} trail {steps}"
            for (_, reached), (left, _) in pairwise(steps):
                assert reached == left, f"R10: plan {pk} trail {steps}"
            assert steps[-1][1] == plan["status"], f"R10: plan {pk} {plan['status']} {steps}"
            amendments = sum(1 for _, to_status in steps if to_status == "amending")
            assert plan["version"] == 1 + amendments, f"R10: plan {pk} version"
            state = (sorted(chosen[pk]), plan["narrative"])
            if pk in self.frozen_plans:
                assert state == self.frozen_plans[pk], f"R10: frozen plan {pk} changed"
            if plan["status"] in FROZEN_PLAN_STATUSES:
                frozen[pk] = state
        missing = set(self.frozen_plans) - {plan["pk"] for plan in view.plans}
        assert not missing, f"R10: submitted or approved plans {missing} disappeared"
        self.frozen_plans = frozen

    @invariant()
    @once_per_version
    def r11_projects_use_their_own_posts_partners(self):
        for project in self.view().projects.values():
            assert project["partner__post_id"] == project["post_id"], (
                f"R11: project {project['pk']} uses another post's partner"
            )

    @invariant()
    @once_per_version
    def r13_results_values_and_indicators_fit_the_project(self):
        view = self.view()
        served = defaultdict(set)
        for link in view.results:
            project = view.projects[link["project_id"]]
            served[project["pk"]].add(link["intendedresult_id"])
            assert link["intendedresult__priority_id"] == project["priority_id"], (
                f"R13: project {project['pk']} serves a result of another priority"
            )
        indicators = {indicator["pk"]: indicator for indicator in view.indicators}
        for indicator in view.indicators:
            assert indicator["intended_result_id"] in served[indicator["project_id"]], (
                f"R13: indicator {indicator['pk']} measures a result its project does not serve"
            )
        for value in view.values:
            project = view.projects[indicators[value["indicator_id"]]["project_id"]]
            assert project["start_date"].year <= value["year"] <= project["end_date"].year, (
                f"R13: value for {value['year']} outside project {project['pk']}"
            )


@pytest.mark.django_db
def test_random_service_calls_keep_rules_r1_to_r13_and_access_r11():
    """R1–R13 and the access policy (R11) hold after every step of random service calls by
    random actors; refused calls change nothing."""
    world = build_world()
    run_state_machine_as_test(lambda: FundMachine(world), settings=_profile())


# --------------------------------------------------------------------------------------------
# What the machine found, pinned as plain examples (one step each from the world above)


def _start_year_project(world: World, post: str) -> Project:
    """The world's project of `post` that started in 2025 and has no 2025 budget line."""
    return (
        Project.objects.filter(post_id=world.posts[post], start_date__year__lt=REFORM)
        .exclude(budget_lines__year__lt=REFORM)
        .get()
    )


@pytest.mark.django_db
def test_dropping_the_last_budget_line_cannot_move_a_project_into_2025_r6_r7():
    """R6/R7: M takes part only in 2027; its project started in 2025 (historical import) with
    money only in 2027. Without a budget line a project belongs to its start year, so dropping
    the 2027 line would put it in 2025, where M does not take part, without any import."""
    world = build_world()
    project = _start_year_project(world, "M")
    assert not Participation.objects.filter(
        post_id=world.posts["M"], fund_year__year=2025, selected=True
    ).exists()
    with pytest.raises(FundRuleError) as refusal:
        services.project_update(actor=world.users["superuser"], project=project, budget={})
    assert refusal.value.rule in ("R6", "R7")
    assert BudgetLine.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_a_project_of_2025_by_its_start_year_keeps_its_status_r7():
    """R7: a project without budget lines belongs to its start year; A's started in 2025
    (historical import). Cancelling it re-labels 2025 (README: a status change touches all
    the project's years), which only a historical import may do."""
    world = build_world()
    project = _start_year_project(world, "A")
    with pytest.raises(FundRuleError) as refusal:
        services.project_update(actor=world.users["editor_a"], project=project, status="cancelled")
    assert refusal.value.rule == "R7"
    project.refresh_from_db()
    assert project.status == "planned"
