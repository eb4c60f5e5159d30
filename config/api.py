"""API glue shared by all apps: the domain error becomes a 400 naming its rule."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from grants.rules import FundRuleError


def exception_handler(exc, context):
    if isinstance(exc, FundRuleError):
        field = exc.field or "non_field_errors"
        body = {field: [{"code": exc.rule, "message": exc.formatted_message}]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
