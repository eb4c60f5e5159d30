"""API glue shared by all apps: the domain error becomes a response naming its rule.

A rule breach is 400; a role that may not act is 403 (`forbidden`); another post's object is
404, exactly as an object that does not exist (R11).
"""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from grants.access import AccessDenied, UnknownObject
from grants.rules import FundRuleError


def status_for(error: FundRuleError) -> int:
    if isinstance(error, UnknownObject):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, AccessDenied):
        return status.HTTP_403_FORBIDDEN
    return status.HTTP_400_BAD_REQUEST


def exception_handler(exc, context):
    if isinstance(exc, FundRuleError):
        field = exc.field or "non_field_errors"
        body = {field: [{"code": exc.rule, "message": exc.formatted_message}]}
        return Response(body, status=status_for(exc))
    return drf_exception_handler(exc, context)
