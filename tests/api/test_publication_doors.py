"""R11: publication is decided by the ministry alone. A post may raise a partner's
sensitivity and ask for clearance; clearing, lowering and making a participation public are
fund-manager actions, through every door (API, admin, import)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grants import services
from grants.models import Clearance, Partner, PartnerDecision, Sensitivity


def partner_url(partner, suffix=""):
    return f"/api/v1/partners/{partner.public_id}/{suffix}"


def patch(api, partner, body):
    etag = api.get(partner_url(partner))["ETag"]
    return api.patch(partner_url(partner), body, format="json", HTTP_IF_MATCH=etag)


def test_a_post_editor_cannot_clear_its_partner_through_the_api_R11(api_world, api):
    partner = api_world.own.partner
    response = patch(api, partner, {"cleared_for_publication": True})
    partner.refresh_from_db()
    assert not partner.cleared_for_publication  # read-only: sent back as read, ignored
    assert response.json()["cleared_for_publication"] is False
    assert response.json()["clearance"] == Clearance.NOT_REQUESTED


def test_a_post_editor_cannot_lower_sensitivity_but_may_raise_it_R11(api_world, api):
    partner = api_world.own.partner
    response = patch(api, partner, {"sensitivity": "normal"})
    assert response.status_code == 400, response.content
    assert "R11" in str(response.json()), response.json()
    assert Partner.objects.get(pk=partner.pk).sensitivity == Sensitivity.SENSITIVE
    assert patch(api, partner, {"sensitivity": "high"}).status_code == 200
    assert Partner.objects.get(pk=partner.pk).sensitivity == Sensitivity.HIGH


def test_a_post_asks_for_clearance_and_sees_the_state_of_its_request_R11(api_world, api):
    partner = api_world.own.partner
    url = partner_url(partner, "request-clearance/")
    response = api.post(url, {"comment": "De partner publiceert dit zelf."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["clearance"] == "requested"
    assert response.json()["cleared_for_publication"] is False
    assert api.post(url, {}, format="json").status_code == 400  # already asked
    [asked] = PartnerDecision.objects.filter(partner=partner)
    assert asked.step == "requested" and asked.comment.startswith("De partner")


def test_another_posts_partner_cannot_be_asked_for_R11(api_world, api):
    url = partner_url(api_world.other.partner, "request-clearance/")
    assert api.post(url, {}, format="json").status_code == 404


def test_the_ministry_grants_and_a_rename_lapses_the_clearance_R11(api_world, api):
    partner = api_world.own.partner
    services.partner_request_clearance(actor=api_world.admin, partner=partner)
    services.partner_decide_clearance(actor=api_world.admin, partner=partner, grant=True)
    assert api.get(partner_url(partner)).json()["clearance"] == "granted"
    assert patch(api, partner, {"name": "Nieuwe naam"}).status_code == 200
    partner.refresh_from_db()
    assert not partner.cleared_for_publication and partner.clearance == Clearance.NOT_REQUESTED
    steps = list(PartnerDecision.objects.filter(partner=partner).values_list("step", flat=True))
    assert steps == ["requested", "granted", "reset"]


def test_naming_another_posts_partner_costs_what_an_unknown_id_costs_R11(api_world, api):
    """No existence by timing: the lookup is scoped to the caller's post first, so another
    post's partner and a made-up id take the same queries and get the same 404-like answer."""
    import uuid

    def attempt(partner_id):
        body = {
            "partner": str(partner_id),
            "priority": "women_girls",
            "title": "Probe",
            "start_date": "2026-02-01",
            "end_date": "2026-12-31",
            "budget": [{"year": 2026, "amount": "1000.00"}],
        }
        with CaptureQueriesContext(connection) as queries:
            response = api.post("/api/v1/projects/", body, format="json")
        return response, len(queries)

    other, other_queries = attempt(api_world.other.partner.public_id)
    unknown, unknown_queries = attempt(uuid.uuid4())
    assert other.status_code == unknown.status_code
    assert other.json() == unknown.json()
    assert other_queries == unknown_queries


def test_post_users_have_no_admin_door_R11(api_world, editor, client):
    client.force_login(editor)
    url = reverse("admin:grants_partner_changelist")
    response = client.post(url, {"action": "grant_clearance", "_selected_action": [1]})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Partner.objects.filter(cleared_for_publication=True).exists()


def test_a_new_partner_starts_at_least_sensitive_R11(api):
    body = {"name": "Nieuw", "partner_type": "local_cso", "country": "KE", "sensitivity": "normal"}
    response = api.post("/api/v1/partners/", body, format="json")
    assert response.status_code == 400 and "R11" in str(response.json())
    assert not Partner.objects.filter(name="Nieuw").exists()


def test_a_post_cannot_lower_by_deleting_or_by_moving_the_project_R11(api_world, editor):
    """Delete the highly sensitive partner and add it again as normal, or move its project to
    a less sensitive partner: both would publish it past the ministry."""
    from fund.checks import FundRuleError

    own = api_world.own
    services.partner_set_sensitivity(actor=editor, partner=own.partner, sensitivity="high")
    spare = services.partner_save(
        actor=editor, post=own.post, name="Reserve", partner_type="local_cso",
        country=own.partner.country,
    )  # fmt: skip
    try:
        services.project_update(actor=editor, project=own.project, partner=spare)
    except FundRuleError as refusal:
        assert refusal.rule == "R11" and refusal.field == "partner"
    else:
        raise AssertionError("the project moved away from its highly sensitive partner")
    lonely = services.partner_save(
        actor=editor, post=own.post, name="Alleen", partner_type="local_cso",
        country=own.partner.country, sensitivity="high",
    )  # fmt: skip
    try:
        services.partner_delete(actor=editor, partner=lonely)
    except FundRuleError as refusal:
        assert refusal.rule == "R11"
    else:
        raise AssertionError("a post deleted a highly sensitive partner")


def test_a_post_may_withdraw_a_clearance_and_raising_sensitivity_lapses_it_R11(
    api_world, api, editor
):
    partner = api_world.own.partner
    services.partner_decide_clearance(actor=api_world.admin, partner=partner, grant=True)
    assert patch(api, partner, {"sensitivity": "high"}).status_code == 200
    partner.refresh_from_db()
    assert not partner.cleared_for_publication and partner.clearance == Clearance.NOT_REQUESTED
    services.partner_decide_clearance(actor=api_world.admin, partner=partner, grant=True)
    services.partner_save(
        actor=editor, partner=partner, post=partner.post, name=partner.name,
        partner_type=partner.partner_type, country=partner.country,
        cleared_for_publication=False,
    )  # fmt: skip
    partner.refresh_from_db()
    assert not partner.cleared_for_publication and partner.clearance == Clearance.NOT_REQUESTED
    steps = PartnerDecision.objects.filter(partner=partner).values_list("step", flat=True)
    assert list(steps)[-1] == "reset"
