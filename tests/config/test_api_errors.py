"""The API's answer to a service refusal: 400 for a rule, 403 for a role, 404 for R11."""

import pytest

from config.api import exception_handler
from grants.access import AccessDenied, UnknownObject
from grants.rules import FundRuleError


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (FundRuleError("R5", "Too much.", field="amount"), 400, "R5"),
        (AccessDenied("Your role does not allow this."), 403, "forbidden"),
        (UnknownObject("annual plan", field="plan"), 404, "R11"),
    ],
)
def test_domain_errors_become_responses_naming_their_code(error, status, code):
    response = exception_handler(error, context={})
    assert response.status_code == status
    (field, [detail]), *_ = response.data.items()
    assert detail["code"] == code
    assert detail["message"]
    assert field == (error.field or "non_field_errors")
