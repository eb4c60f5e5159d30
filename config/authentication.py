"""The embassy API's token: `Authorization: Token <key>` (knox: stored hashed, with expiry,
revocable in the admin), and the same key as `Bearer <key>`, which is what a client generated
from the OpenAPI schema sends for an HTTP bearer scheme without being told a prefix."""

from hmac import compare_digest

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header


class FundTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if parts and parts[0].lower() == b"bearer":
            if len(parts) != 2:
                return super().authenticate(request)  # knox's own error for a bad header
            return self.authenticate_credentials(parts[1])
        return super().authenticate(request)

    def authenticate_credentials(self, token):
        """knox's own check, with the user's post membership and post read in the same query
        as the token: every API request asks for them next (fund.access.profile_of), and this
        saves that query. Otherwise as knox: expired tokens of the user are removed, the key
        compared in constant time, the expiry renewed when configured."""
        message = _("Invalid token.")
        token = token.decode("utf-8")
        candidates = (
            get_token_model()
            .objects.filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH])
            .select_related("user__post_membership__post")
        )
        for auth_token in candidates:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, ValueError) as error:  # binascii.Error is a ValueError
                raise exceptions.AuthenticationFailed(message) from error
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(message)


class FundTokenScheme(OpenApiAuthenticationExtension):
    target_class = FundTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "The API token of an embassy account (`create_post_user` prints it). Send it as "
                "`Authorization: Bearer <token>`, which generated clients do, or as "
                "`Authorization: Token <token>`; both are the same."
            ),
        }
