"""Passwords asked for by the account commands (create_post_user, create_ministry_user)."""

import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def ask_password(username: str) -> str:
    """Asked twice, then checked by the project's password validators."""
    password = getpass.getpass(f"Password for {username}: ")
    if password != getpass.getpass("Again: "):
        raise CommandError("The passwords differ.")
    return validated(password)


def validated(password: str) -> str:
    try:
        validate_password(password)
    except ValidationError as error:
        raise CommandError(" ".join(error.messages)) from error
    return password
