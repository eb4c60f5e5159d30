"""The embassy API's token: `Authorization: Token <key>` (knox: stored hashed, with expiry,
revocable in the admin), and the same key as `Bearer <key>`, which is what a client generated
from the OpenAPI schema sends for an HTTP bearer scheme without being told a prefix."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework.authentication import get_authorization_header


class FundTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if parts and parts[0].lower() == b"bearer":
            if len(parts) != 2:
                return super().authenticate(request)  # knox's own error for a bad header
            return self.authenticate_credentials(parts[1])
        return super().authenticate(request)


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
