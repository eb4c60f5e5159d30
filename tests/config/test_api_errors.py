"""The API's answer to a service refusal, as problem details: 400 for a rule (its id as the
code), 403 for a role, 404 for another post's object (R11), 409 for a frozen plan (R10)."""

import pytest

from fund.access import AccessDenied, UnknownObject
from fund.api import PROBLEM_CONTENT_TYPE, exception_handler
from fund.checks import FundRuleError, StatusConflict


@pytest.mark.parametrize(
    ("error", "status", "code", "field"),
    [
        (FundRuleError("R5", "Too much.", field="amount"), 400, "R5", "amount"),
        (AccessDenied("Your role does not allow this."), 403, "forbidden", None),
        (UnknownObject("annual plan", field="plan"), 404, "R11", "plan"),
        (StatusConflict("R10", "The plan is approved."), 409, "R10", None),
    ],
)
def test_domain_errors_become_problem_details_naming_their_rule(error, status, code, field):
    response = exception_handler(error, context={})
    assert response.status_code == status
    assert response.content_type == PROBLEM_CONTENT_TYPE
    assert response.data["status"] == status
    assert response.data["type"].startswith("urn:mensenrechtenfonds:problem:")
    [detail] = response.data["errors"]
    assert detail["code"] == code
    assert detail["field"] == field
    assert detail["message"] == response.data["detail"]
