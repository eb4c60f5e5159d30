"""The first fund manager of a new installation (docs/deploy.md): made by a command, with a
password from a file (a container secret) or asked for, in exactly one ministry group."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from countries.models import PostRole
from countries.services import membership_set
from fund.access import Role, profile_of, system_actor
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_first_fund_manager_is_made_with_a_password_from_a_file(tmp_path, client):
    secret = tmp_path / "password"
    secret.write_text("Een-Sterk-Wachtwoord-2026\n")
    call_command("create_ministry_user", "eerste", "--role", "fondsbeheerder",
                 "--email", "fb@example.org", "--password-file", str(secret))  # fmt: skip
    user = get_user_model().objects.get(username="eerste")
    assert user.is_staff and not user.is_superuser and user.email == "fb@example.org"
    assert list(user.groups.values_list("name", flat=True)) == ["fondsbeheerder"]
    assert profile_of(user).roles == {Role.FUND_MANAGER}
    assert user.check_password("Een-Sterk-Wachtwoord-2026")
    login = client.post("/admin/login/", {"username": "eerste",
                                          "password": "Een-Sterk-Wachtwoord-2026"})  # fmt: skip
    assert login.status_code == 302  # into the admin

    call_command("create_ministry_user", "eerste", "--role", "beoordelaar")  # a role change
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["beoordelaar"]
    assert user.check_password("Een-Sterk-Wachtwoord-2026")  # kept


def test_a_weak_password_and_an_embassy_account_are_refused(tmp_path):
    weak = tmp_path / "weak"
    weak.write_text("1234")
    with pytest.raises(CommandError):
        call_command("create_ministry_user", "zwak", "--role", "fondsbeheerder",
                     "--password-file", str(weak))  # fmt: skip
    assert not get_user_model().objects.filter(username="zwak").exists()

    embassy = UserFactory(username="ambassade")
    membership_set(actor=system_actor("accounts"), user=embassy, post=PostFactory(),
                   role=PostRole.EDITOR)  # fmt: skip
    strong = tmp_path / "strong"
    strong.write_text("Een-Sterk-Wachtwoord-2026")
    with pytest.raises(CommandError, match="embassy"):  # R11
        call_command("create_ministry_user", "ambassade", "--role", "fondsbeheerder",
                     "--password-file", str(strong))  # fmt: skip
    embassy.refresh_from_db()
    assert not embassy.is_staff and not embassy.groups.exists()
