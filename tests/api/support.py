"""Helpers of the API tests: post users, token clients and problem-document checks."""

from knox.models import AuthToken
from rest_framework.test import APIClient

from countries.models import Post
from countries.services import membership_set
from tests.factories import UserFactory


def post_user(admin, post: Post, role: str, username: str):
    user = UserFactory(username=username)
    membership_set(actor=admin, user=user, post=post, role=role)
    return user


def client_for(user) -> APIClient:
    """An API client sending the user's own knox token, as an embassy tool does."""
    client = APIClient()
    if user is not None:
        _row, token = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def assert_problem(response, status: int, code: str | None = None, field=...):
    """The response is a problem document with this status (and first error code/field)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["errors"], body
    if code is not None:
        assert body["errors"][0]["code"] == code, body
    if field is not ...:
        assert body["errors"][0]["field"] == field, body
    return body
