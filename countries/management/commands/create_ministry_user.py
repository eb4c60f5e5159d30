"""`python manage.py create_ministry_user USERNAME --role fondsbeheerder|beoordelaar|alleen-lezen`.

Creates or updates a ministry account for the admin: staff, in exactly one ministry group,
with a password asked for twice (or read from `--password-file`, for a deploy script). The
first fund manager of a new installation is made this way (docs/deploy.md); later ones a fund
manager can make in the admin. Never a superuser: the access policy's roles decide (R11).
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from countries.management.passwords import ask_password, validated
from countries.models import PostMembership
from fund.access import MINISTRY_GROUPS, ensure_roles

ROLES = sorted(MINISTRY_GROUPS.values())


class Command(BaseCommand):
    help = "Create or update a ministry user (fund manager, reviewer or read-only) for the admin."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="", help="E-mail address (for the cycle's mail).")
        parser.add_argument(
            "--password-file",
            type=Path,
            default=None,
            help="Read the password from this file (e.g. a container secret) instead of asking.",
        )

    def handle(self, *args, username, role, email, password_file, **options):
        user_model = get_user_model()
        existing = user_model.objects.filter(username=username).first()
        password = self._password(username, password_file, existing)
        with transaction.atomic():
            ensure_roles()
            user, created = user_model.objects.get_or_create(username=username)
            if PostMembership.objects.filter(user=user).exists():
                # R11: an embassy account is never ministry staff (countries.services).
                raise CommandError(f"{username} is an embassy user; ministry roles are apart.")
            user.is_staff = True
            user.is_active = True
            if email:
                user.email = email
            if password is not None:
                user.set_password(password)
            user.save()
            user.groups.remove(*Group.objects.filter(name__in=ROLES))
            user.groups.add(Group.objects.get(name=role))
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} ministry user {username}: {role}.")

    def _password(self, username, password_file, existing) -> str | None:
        if password_file is not None:
            return validated(password_file.read_text().strip())
        if existing is not None and existing.has_usable_password():
            return None  # an update keeps the password
        return ask_password(username)
