"""Helpers that build states through the services, so every test starts from a legal state."""

from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from countries import services as country_services
from fund.checks import FundRuleError
from grants import services
from grants.models import ProjectStatus
from grants.services import ChosenPriority
from priorities.models import Priority

from .factories import PartnerFactory, PostFactory


@contextmanager
def refuses(rule: str, field: str | None = None):
    """Assert that the block raises FundRuleError for `rule` (and on `field`, if given)."""
    with pytest.raises(FundRuleError) as info:
        yield info
    assert info.value.rule == rule, f"expected {rule}, got {info.value.rule}: {info.value}"
    if field is not None:
        assert info.value.field == field, info.value.field


def priority(code: str) -> Priority:
    return Priority.objects.get(code=code)


def make_participant(actor, fund_year, *, post=None, allocation=Decimal("1000000.00"), **post_kw):
    """A post selected for the year, with an allocation (R1, R5, R6 respected); years before
    the reform are loaded as a historical import (R7)."""
    post = post or PostFactory(**post_kw)
    history = fund_year.year < 2026
    country_services.participation_set(
        actor=actor, post=post, fund_year=fund_year, selected=True, history_import=history
    )
    if allocation is not None:
        services.allocation_set(
            actor=actor, post=post, fund_year=fund_year, amount=allocation, history_import=history
        )
    return post


def make_plan(actor, post, fund_year, priorities=(("women_girls", "400000.00"),), **kw):
    plan = services.plan_create(actor=actor, post=post, fund_year=fund_year, **kw)
    services.plan_priorities_set(
        actor=actor,
        plan=plan,
        items=[ChosenPriority(priority(code), Decimal(amount)) for code, amount in priorities],
        **kw,
    )
    plan.refresh_from_db()
    return plan


def make_project(actor, post, *, priority_code="women_girls", budget=None, **kw):
    partner = kw.pop("partner", None) or PartnerFactory(post=post)
    chosen = kw.pop("priority_object", None) or priority(priority_code)
    fields = {
        "title": "Project",
        "start_date": date(2026, 1, 1),
        "end_date": date(2026, 12, 31),
    }
    fields.update(kw)
    return services.project_create(
        actor=actor,
        post=post,
        partner=partner,
        priority=chosen,
        budget=budget if budget is not None else {2026: Decimal("100000.00")},
        **fields,
    )


def post_with_active_projects(actor, year, amounts):
    """A participating post with € 1,000,000, a plan on women_girls and one active 2026
    project per amount, each paid 10 %. The partner's name starts with "Geheim" (R11 scans)."""
    post = make_participant(actor, year, allocation=Decimal("1000000.00"))
    make_plan(actor, post, year, priorities=(("women_girls", "500000.00"),))
    partner = PartnerFactory(post=post, name=f"Geheim {post.code}")
    for index, amount in enumerate(amounts):
        project = services.project_create(
            actor=actor,
            post=post,
            partner=partner,
            priority=priority("women_girls"),
            title=f"P{index}",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
            status=ProjectStatus.ACTIVE,
            budget={2026: Decimal(amount)},
        )
        services.disbursement_create(
            actor=actor, project=project, date=date(2026, 3, 1), amount=Decimal(amount) / 10
        )
    return post


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: real row locks and concurrent transactions",
)


# A post's year as its annual report sees it (R13): the plan's aims per priority and the
# projects with their status, intended results, budget, payments and indicator values. Tests
# compute the expected figures from this table with plain Python.
REPORTED_YEAR = {
    "priorities": {
        "women_girls": ("500000.00", ["women_girls.violence", "women_girls.srhr"]),
        "lgbtiq": ("200000.00", ["lgbtiq.discrimination"]),
    },
    "projects": [
        {
            "title": "Opvang",
            "priority": "women_girls",
            "status": ProjectStatus.ACTIVE,
            "results": ["women_girls.violence"],
            "budget": "200000.00",
            "paid": ["50000.00", "25000.00"],
            "indicators": [("Shelters", "shelters", "0", "10", {2026: "4"})],
        },
        {
            "title": "Klinieken",
            "priority": "women_girls",
            "status": ProjectStatus.PLANNED,
            "results": ["women_girls.violence", "women_girls.srhr"],
            "budget": "100000.00",
            "paid": [],
            "indicators": [
                ("Clinics", "clinics", "1", "5", {2026: "3"}),
                ("Cases heard", "cases", "0", "40", {2026: "12.50"}),
            ],
        },
        {
            "title": "Acceptatie",
            "priority": "lgbtiq",
            "status": ProjectStatus.ACTIVE,
            "results": ["lgbtiq.discrimination"],
            "budget": "80000.00",
            "paid": ["20000.00"],
            # A value of another year is not this year's figure.
            "indicators": [("Cases", "cases", "0", "20", {2026: "7", 2027: "9"})],
        },
    ],
}


def post_with_a_reported_year(actor, fund_year, *, post=None, approve=True):
    """A participating post (€ 1,000,000) whose plan for the year follows REPORTED_YEAR and is
    approved (R10), with its projects, payments and reported values — all through the
    services."""
    post = make_participant(actor, fund_year, post=post)
    plan = services.plan_create(actor=actor, post=post, fund_year=fund_year)
    services.plan_priorities_set(
        actor=actor,
        plan=plan,
        items=[
            ChosenPriority(code, Decimal(amount), aims)
            for code, (amount, aims) in REPORTED_YEAR["priorities"].items()
        ],
    )
    partner = PartnerFactory(post=post)
    for spec in REPORTED_YEAR["projects"]:
        project = services.project_create(
            actor=actor,
            post=post,
            partner=partner,
            priority=priority(spec["priority"]),
            title=spec["title"],
            start_date=date(fund_year.year, 1, 1),
            end_date=date(fund_year.year + 1, 6, 30),
            status=spec["status"],
            intended_results=spec["results"],
            budget={fund_year.year: Decimal(spec["budget"])},
        )
        for month, amount in enumerate(spec["paid"], start=3):
            services.disbursement_create(
                actor=actor,
                project=project,
                date=date(fund_year.year, month, 1),
                amount=Decimal(amount),
            )
        for name, unit, baseline, target, values in spec["indicators"]:
            indicator = services.indicator_save(
                actor=actor,
                project=project,
                intended_result=spec["results"][-1],
                name=name,
                unit=unit,
                baseline=Decimal(baseline),
                target=Decimal(target),
            )
            for value_year, value in values.items():
                services.indicator_value_set(
                    actor=actor,
                    indicator=indicator,
                    year=fund_year.year + (value_year - 2026),
                    value=Decimal(value),
                )
    if approve:
        services.plan_approve(actor=actor, plan=services.plan_submit(actor=actor, plan=plan))
    plan.refresh_from_db()
    return post, plan


def grant_clearance(partner):
    """R11: a fund manager clears the partner now, covering its projects' texts as they are."""
    from fund.access import system_actor

    return services.partner_decide_clearance(
        actor=system_actor("seed"), partner=partner, grant=True
    )


def deliver_outbox() -> list:
    """Deliver the outbox as a worker would (here to Django's test mailbox); returns the
    mailbox, each message delivered once."""
    from django.core import mail

    from outbox.services import deliver_due

    mail.outbox.clear()
    deliver_due(budget_seconds=60)
    return list(mail.outbox)
