"""Two embassy clients race through the HTTP layer on PostgreSQL (a real threaded server,
each request in its own connection and transaction): one wins, the other gets the rule's
400, and the invariants hold (R2, R5)."""

import json
import threading
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from knox.models import AuthToken

from countries.models import PostRole
from countries.services import membership_set
from grants.models import BudgetLine, PlanPriority, Project
from tests.factories import FundYearFactory, PartnerFactory, StaffFactory, UserFactory
from tests.helpers import make_participant, make_plan, postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def token_for(admin, post, username):
    user = UserFactory(username=username)
    membership_set(actor=admin, user=user, post=post, role=PostRole.EDITOR)
    return AuthToken.objects.create(user=user)[1]


def send(url, token, body, barrier):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    barrier.wait(timeout=10)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def race(*requests):
    """Send the requests at the same moment from parallel threads; their (status, body)."""
    barrier = threading.Barrier(len(requests))
    outcomes = [None] * len(requests)

    def run(index, url, token, body):
        outcomes[index] = send(url, token, body, barrier)

    threads = [
        threading.Thread(target=run, args=(index, *request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def assert_one_wins(outcomes, win_status, rule):
    statuses = sorted(status for status, _body in outcomes)
    assert statuses == sorted([win_status, 400]), outcomes
    [loser] = [body for status, body in outcomes if status == 400]
    assert loser["errors"][0]["code"] == rule, loser


@pytest.mark.parametrize("attempt", range(3))
def test_two_colleagues_adding_a_priority_at_once_one_wins_R2(live_server, attempt):
    admin = StaffFactory(username=f"http-r2-{attempt}")
    year = FundYearFactory(year=2026)
    post = make_participant(admin, year)
    plan = make_plan(admin, post, year, priorities=(("women_girls", "100"),))
    url = f"{live_server.url}/api/v1/plans/{plan.public_id}/priorities/"
    alice, bob = token_for(admin, post, "alice"), token_for(admin, post, "bob")
    outcomes = race(
        (url, alice, {"priority": "lgbtiq", "amount": "100"}),
        (url, bob, {"priority": "expression", "amount": "100"}),
    )
    assert_one_wins(outcomes, 200, "R2")
    assert PlanPriority.objects.filter(plan=plan).count() == 2


@pytest.mark.parametrize("attempt", range(3))
def test_two_colleagues_spending_the_last_euro_at_once_one_wins_R5(live_server, attempt):
    admin = StaffFactory(username=f"http-r5-{attempt}")
    year = FundYearFactory(year=2026)
    post = make_participant(admin, year, allocation=Decimal("100000.00"))
    make_plan(admin, post, year, priorities=(("women_girls", "100000.00"),))
    partner = PartnerFactory(post=post)
    url = f"{live_server.url}/api/v1/projects/"
    alice, bob = token_for(admin, post, "alice"), token_for(admin, post, "bob")

    def project(title):
        return {
            "partner": str(partner.public_id),
            "priority": "women_girls",
            "title": title,
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "budget": [{"year": 2026, "amount": "100000.00"}],
        }

    outcomes = race((url, alice, project("Alice's")), (url, bob, project("Bob's")))
    assert_one_wins(outcomes, 201, "R5")
    assert Project.objects.filter(post=post).count() == 1
    spent = sum(line.amount for line in BudgetLine.objects.filter(project__post=post))
    assert spent == Decimal("100000.00")


@pytest.mark.parametrize("resource", ["projects", "partners", "plans"])
def test_a_create_retried_at_once_with_one_key_writes_once(live_server, resource):
    """Two copies of one request (a client that timed out and retried) race: both get the one
    object, also where a second copy would break a uniqueness rule (partner name, R10)."""
    from grants.models import AnnualPlan, Partner

    admin = StaffFactory(username=f"http-idempotent-{resource}")
    year = FundYearFactory(year=2026)
    post = make_participant(admin, year)
    if resource != "plans":
        make_plan(admin, post, year)
    partner = PartnerFactory(post=post)
    token = token_for(admin, post, "carol")
    body = {
        "projects": {
            "partner": str(partner.public_id),
            "priority": "women_girls",
            "title": "Once",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
        "partners": {"name": "Once", "partner_type": "local_cso", "country": "KE"},
        "plans": {"year": 2026, "narrative": "Once"},
    }[resource]
    url = f"{live_server.url}/api/v1/{resource}/"
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def run(index):
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"{resource}-once",
            },
        )
        barrier.wait(timeout=10)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                outcomes[index] = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            outcomes[index] = (error.code, json.loads(error.read()))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in outcomes] == [201, 201], outcomes
    assert outcomes[0][1]["id"] == outcomes[1][1]["id"]
    created = {
        "projects": Project.objects.filter(post=post, title="Once"),
        "partners": Partner.objects.filter(post=post, name="Once"),
        "plans": AnnualPlan.objects.filter(post=post, narrative="Once"),
    }[resource]
    assert created.count() == 1
