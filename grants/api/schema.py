"""OpenAPI for the embassy API: every operation documents its error responses (problem
details), the headers it reads (If-Match, Idempotency-Key, Accept-Language) and the headers
it sends (ETag, Location, Retry-After)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from fund.api import PROBLEM_CONTENT_TYPE

from .base import ETagMixin


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True,
        help_text="The input at fault, as a dotted path (`budget.1.amount`); "
        "null for the request as a whole.",
    )
    code = serializers.CharField(
        help_text="The rule id (R1–R13) for a breach of the fund's rules; otherwise a "
        "machine-readable code such as `required`, `invalid`, `unknown_field`, `forbidden`, "
        "`not_found`, `stale_etag`."
    )
    message = serializers.CharField(help_text="In the request's language (Accept-Language).")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="`urn:mensenrechtenfonds:problem:<kind>`.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = ProblemErrorSerializer(many=True)


ERRORS = {
    400: "Invalid input or a breach of a rule of the fund (the rule id is the error's code).",
    401: "No valid token or session.",
    403: "Not a post user (ministry staff use the admin), or a viewer who writes.",
    404: "No such object for your post: another post's objects are never visible (R11).",
    406: "Only JSON is served.",
    409: "The plan's or report's status does not allow this write (R10).",
    412: "If-Match does not match the current ETag: someone changed the object.",
    413: "The request body is too large.",
    415: "Send JSON.",
    422: "The Idempotency-Key was already used with a different request.",
    428: "If-Match is required.",
    429: "Too many requests from this user; see Retry-After.",
}

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the object as you last read it (or `*`); a weak ETag (`W/…`) "
    "never matches.",
)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional: refuse (412) if the plan or report changed since you read it.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An ETag you hold: 304 without a body if it is still current.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A unique key per intended write (e.g. a UUID). A retry with the same key and "
    "body returns the first response instead of writing again.",
)
ACCEPT_LANGUAGE = OpenApiParameter(
    "Accept-Language",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Language of messages: `nl` (the default) or `en`; others fall back to Dutch.",
)


def _response_header(name, description, codes):
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.HEADER, response=codes, description=description
    )


class ProblemAutoSchema(AutoSchema):
    def _has_etag(self) -> bool:
        return isinstance(self.view, ETagMixin) and (self._is_detail() or self.method == "POST")

    def _is_detail(self) -> bool:
        return "{" in self.path.rstrip("/").rsplit("/", 1)[-1]

    def _is_action(self) -> bool:
        """An extra action such as submit (not one of the standard CRUD actions)."""
        return getattr(self.view, "action", None) not in (
            None, "list", "retrieve", "create", "update", "partial_update", "destroy",
        )  # fmt: skip

    def get_override_parameters(self):
        parameters = [*super().get_override_parameters(), ACCEPT_LANGUAGE]
        method = self.method
        is_action = self._is_action()
        if isinstance(self.view, ETagMixin):
            if method in ("PUT", "PATCH", "DELETE"):
                parameters.append(IF_MATCH)
            elif method == "POST" and is_action:
                parameters.append(IF_MATCH_OPTIONAL)
            elif method == "GET" and self._is_detail():
                parameters.append(IF_NONE_MATCH)
        if method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        if self._has_etag() and method != "DELETE":
            codes = [200, 201, 304] if method == "GET" else [200, 201]
            parameters.append(_response_header("ETag", "The representation's ETag.", codes))
        if method == "POST" and not is_action:
            parameters.append(_response_header("Location", "URL of the new object.", [201]))
        if method == "POST":
            parameters.append(
                _response_header(
                    "Idempotent-Replayed",
                    "`true` when this is the stored answer to an earlier request with the same "
                    "Idempotency-Key.",
                    [200, 201],
                )
            )
        parameters.append(_response_header("WWW-Authenticate", "`Token`.", [401]))
        parameters.append(_response_header("Retry-After", "Seconds to wait.", [429]))
        return parameters

    def _error_codes(self) -> list[int]:
        codes = [400, 401, 403, 404, 406, 429]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += [413, 415]
            if any(part in self.path for part in ("/plans/", "/annual-reports/", "/values/")):
                codes.append(409)
        if self.method == "POST":
            codes.append(422)
        if isinstance(self.view, ETagMixin) and self.method in ("PUT", "PATCH", "DELETE"):
            codes += [412, 428]
        if isinstance(self.view, ETagMixin) and self.method == "POST" and self._is_action():
            codes.append(412)
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method == "GET" and self._has_etag():
            responses["304"] = self._get_response_for_code(
                OpenApiResponse(description="Not modified: your ETag is current."), "304"
            )
        for code in self._error_codes():
            responses.setdefault(
                str(code),
                self._get_response_for_code(
                    OpenApiResponse(ProblemSerializer, description=ERRORS[code]),
                    str(code),
                    media_types=[PROBLEM_CONTENT_TYPE],
                ),
            )
        return responses
