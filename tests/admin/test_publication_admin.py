"""R11 in the admin: the fund managers decide what is published — they grant or refuse a
partner's clearance and lower its sensitivity (recorded with who and when); reviewers and
readers cannot; an import cannot make a participation public."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from countries.models import Participation
from fund.access import ensure_roles, system_actor
from grants.models import Clearance, FundYear, Partner, PartnerDecision, Sensitivity
from tests.factories import PartnerFactory, UserFactory
from tests.helpers import make_participant

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/grants/partner/"


def staff(client, group):
    ensure_roles()
    user = UserFactory(username=f"{group}-1", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def act(client, action, partner):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [partner.pk]}, follow=True
    )


def test_a_fund_manager_grants_a_requested_clearance_in_dutch_R11(client):
    partner = PartnerFactory(clearance=Clearance.REQUESTED)
    manager = staff(client, "fondsbeheerder")
    page = client.get(CHANGELIST)
    assert "Vrijgeven voor publicatie (R11)" in page.content.decode()
    response = act(client, "grant_clearance", partner)
    assert "1 partner bijgewerkt." in response.content.decode()
    partner.refresh_from_db()
    assert partner.cleared_for_publication and partner.clearance == Clearance.GRANTED
    [decision] = PartnerDecision.objects.filter(partner=partner)
    assert decision.step == "granted" and decision.actor == manager


def test_a_fund_manager_lowers_a_sensitivity_and_it_is_recorded_R11(client):
    partner = PartnerFactory(sensitivity=Sensitivity.HIGH)
    staff(client, "fondsbeheerder")
    act(client, "sensitivity_normal", partner)
    partner.refresh_from_db()
    assert partner.sensitivity == Sensitivity.NORMAL
    decision = PartnerDecision.objects.get(partner=partner)
    assert (decision.sensitivity_from, decision.sensitivity_to) == ("high", "normal")


@pytest.mark.parametrize("group", ["beoordelaar", "alleen-lezen"])
def test_reviewers_and_readers_cannot_clear_or_lower_R11(client, group):
    partner = PartnerFactory(sensitivity=Sensitivity.SENSITIVE)
    staff(client, group)
    assert "grant_clearance" not in client.get(CHANGELIST).content.decode()
    act(client, "grant_clearance", partner)
    act(client, "sensitivity_normal", partner)
    partner.refresh_from_db()
    assert not partner.cleared_for_publication and partner.sensitivity == Sensitivity.SENSITIVE
    assert not PartnerDecision.objects.exists()


def test_an_import_cannot_make_a_participation_public_R11(client):
    year = FundYear.objects.create(
        year=2027, envelope=Decimal("36000000.00"), plan_submission_deadline=date(2026, 11, 15)
    )
    post = make_participant(system_actor("seed"), year, allocation=None)
    staff(client, "fondsbeheerder")
    text = f"post,fund_year,selected,published\n{post.code},2027,ja,ja\n"
    url = "/admin/countries/participation/import/"
    preview = client.post(
        url,
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("rows.csv", text.encode(), "text/csv"),
        },
    )
    form = preview.context.get("confirm_form")
    if form is not None:
        client.post(
            url.replace("/import/", "/process_import/"),
            {name: form.initial.get(name, field.initial) for name, field in form.fields.items()},
        )
    assert not Participation.objects.get(post=post, fund_year=year).published
    assert not Partner.objects.filter(cleared_for_publication=True).exists()
