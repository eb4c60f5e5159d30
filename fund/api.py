"""API glue shared by all apps: every error is an RFC 9457 problem details document.

    HTTP/1.1 400 Bad Request
    Content-Type: application/problem+json

    {"type": "urn:mensenrechtenfonds:problem:rule-breach", "title": "A rule of the fund is
     not met.", "status": 400, "detail": "[R2] …",
     "errors": [{"field": "priorities", "code": "R2", "message": "…"}]}

Each error names the input at fault (`field`, a dotted path such as `budget.1.amount`, or null
for the request as a whole) and its `code`: the rule id (R1…R13) for a breach of the fund's
rules, otherwise a short machine-readable code (`required`, `invalid`, `unknown_field`…).
A rule breach is 400; a role that may not act is 403 (`forbidden`); another post's object is
404, exactly as an object that does not exist (R11); a write the plan's status forbids is 409.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from fund.access import AccessDenied, UnknownObject
from fund.checks import FundRuleError, StatusConflict

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:mensenrechtenfonds:problem:"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = _(
        "Send the ETag you last read in an If-Match header, so that nobody's change is lost."
    )
    default_code = "if_match_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "Someone changed this since you read it (the If-Match ETag is stale); read it again."
    )
    default_code = "stale_etag"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("This Idempotency-Key was already used for a different request.")
    default_code = "idempotency_key_reused"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The object's current state does not allow this.")
    default_code = "conflict"


# status → (problem type, title)
PROBLEMS = {
    400: ("invalid-input", _("The request is not valid.")),
    401: ("not-authenticated", _("Authentication is needed.")),
    403: ("forbidden", _("Your role does not allow this.")),
    404: ("not-found", _("Not found.")),
    405: ("method-not-allowed", _("This method is not allowed here.")),
    406: ("not-acceptable", _("This API answers in JSON only.")),
    409: ("conflict", _("The object's current state does not allow this.")),
    412: ("precondition-failed", _("The object changed since you read it.")),
    413: ("too-large", _("The request body is too large.")),
    415: ("unsupported-media-type", _("Send the body as JSON.")),
    422: ("idempotency-key-reused", _("The Idempotency-Key was used for another request.")),
    428: ("precondition-required", _("If-Match is required.")),
    429: ("throttled", _("Too many requests.")),
}
RULE_BREACH = ("rule-breach", _("A rule of the fund is not met."))
RULE_ID = re.compile(r"^R\d+$")


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


def status_for(error: FundRuleError) -> int:
    if isinstance(error, UnknownObject):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, AccessDenied):
        return status.HTTP_403_FORBIDDEN
    if isinstance(error, StatusConflict):
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def problem(status_code: int, errors: list[dict], *, detail=None, kind=None, headers=None):
    """A problem details response; `errors` are {field, code, message} dicts."""
    slug, title = kind or PROBLEMS.get(status_code, ("error", _("The request failed.")))
    body = {
        "type": PROBLEM_TYPE_PREFIX + slug,
        "title": str(title),
        "status": status_code,
        "detail": str(detail if detail is not None else errors[0]["message"] if errors else title),
        "errors": errors,
    }
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def flatten(detail, path: str | None = None) -> list[dict]:
    """DRF's nested error detail as a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            key = None if key in ("non_field_errors", "detail") else str(key)
            errors += flatten(value, f"{path}.{key}" if path and key else path or key)
        return errors
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            return [error for item in detail for error in flatten(item, path)]
        errors = []
        for index, item in enumerate(detail):
            errors += flatten(item, f"{path}.{index}" if path else str(index))
        return errors
    return [{"field": path, "code": getattr(detail, "code", "invalid"), "message": str(detail)}]


def _field_alias(context, field: str | None) -> str | None:
    """The API's name for a service's field (e.g. `fund_year` is `year` in the API)."""
    aliases = getattr(context.get("view"), "error_field_aliases", {}) if context else {}
    return aliases.get(field, field)


def exception_handler(exc, context):
    # Django's own 404/403 say which model was looked for; the API says only "not found".
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, FundRuleError):
        code = status_for(exc)
        field = _field_alias(context, exc.field)
        errors = [{"field": field, "code": exc.rule, "message": exc.formatted_message}]
        is_rule = bool(RULE_ID.match(exc.rule))
        kind = RULE_BREACH if code == status.HTTP_400_BAD_REQUEST and is_rule else None
        return problem(code, errors, kind=kind)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handling logs it
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
        detail = ngettext(
            "%(count)d error in the request, listed in errors.",
            "%(count)d errors in the request, listed in errors.",
            len(errors),
        ) % {"count": len(errors)}
    else:
        detail_code = getattr(exc, "get_codes", lambda: "error")()
        code = detail_code if isinstance(detail_code, str) else "error"
        errors = [{"field": None, "code": code, "message": str(getattr(exc, "detail", exc))}]
        detail = errors[0]["message"]
    headers = {
        name: value
        for name, value in response.items()
        if name in ("WWW-Authenticate", "Retry-After")
        or (name == "Allow" and response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED)
    }
    return problem(response.status_code, errors, detail=detail, headers=headers)
