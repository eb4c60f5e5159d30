"""`python manage.py create_post_user USERNAME --post CODE --role editor|viewer`.

Creates or updates an embassy account bound to one post and prints a new API token as the
last line. The token is shown once: only its hash is stored (django-rest-knox).
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from knox.models import AuthToken

from countries.management.passwords import ask_password
from countries.models import Post
from countries.services import membership_set
from fund.access import PostRole, system_actor
from fund.checks import FundRuleError


class Command(BaseCommand):
    help = (
        "Create or update an embassy user bound to one post (editor or viewer) and print a new "
        "API token as the last line of the output. The token is shown only this once."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--post", required=True, help="Code of the post, e.g. DEMO-B01.")
        parser.add_argument("--role", required=True, choices=PostRole.values)
        parser.add_argument("--email", default="", help="E-mail address of the user.")
        parser.add_argument(
            "--language", choices=["nl", "en"], default=None, help="Language of their e-mails."
        )
        parser.add_argument(
            "--expiry-days",
            type=int,
            default=None,
            help="Days until the token expires (default: the API_TOKEN_TTL_DAYS setting).",
        )
        parser.add_argument(
            "--with-password",
            action="store_true",
            help="Also ask for a password, for logging in to the API documentation.",
        )

    def handle(
        self, *args, username, post, role, email, language, expiry_days, with_password, **options
    ):
        if expiry_days is not None and expiry_days < 1:
            raise CommandError("--expiry-days must be 1 or more.")
        password = self._ask_password(username) if with_password else None
        post_row = Post.objects.filter(code=post).first()
        if post_row is None:
            raise CommandError(f"There is no post with code {post!r}.")
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"email": email}
            )
            if created and password is None:
                user.set_unusable_password()  # tokens only, until a password is set
            if password is not None:
                user.set_password(password)
            if email:
                user.email = email
            user.save()
            try:
                membership_set(
                    actor=system_actor("accounts"),
                    user=user,
                    post=post_row,
                    role=role,
                    language=language,
                )
            except FundRuleError as error:
                raise CommandError(str(error)) from error
            expiry = None if expiry_days is None else timedelta(days=expiry_days)
            token_row, token = (
                AuthToken.objects.create(user=user)
                if expiry is None
                else AuthToken.objects.create(user=user, expiry=expiry)
            )
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} user {username}: {role} of post {post_row.code}.")
        until = f"until {token_row.expiry:%Y-%m-%d %H:%M %Z}" if token_row.expiry else "forever"
        self.stdout.write(
            f"New API token, valid {until}; send it as 'Authorization: Token <token>'. "
            "It is shown only now:"
        )
        self.stdout.write(token)

    def _ask_password(self, username: str) -> str:
        return ask_password(username)
