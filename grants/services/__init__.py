"""Every write to the fund goes through these functions: admin, API, tasks and seeds alike.

Each is one transaction. Cross-row rules lock their guarding parent row first, always in the
order FundYear → Post → AnnualPlan, so concurrent writers queue instead of both passing:
R1 and the envelope (R5) lock the FundYear; a post's money, plans and projects (R2, R4, R5)
lock the Post. A breach raises FundRuleError with its rule id.
"""

from .annual_reports import (
    annual_report_accept,
    annual_report_create,
    annual_report_edit_refusal,
    annual_report_return,
    annual_report_submit,
    annual_report_transition,
    annual_report_update,
)
from .fund import allocation_set, fund_year_save
from .partners import (
    partner_decide_clearance,
    partner_delete,
    partner_request_clearance,
    partner_save,
    partner_set_sensitivity,
)
from .plans import (
    ChosenPriority,
    plan_amend,
    plan_approve,
    plan_create,
    plan_edit_refusal,
    plan_priorities_set,
    plan_priority_add,
    plan_return,
    plan_submit,
    plan_transition,
    plan_update,
    plan_withdraw,
)
from .projects import (
    ProjectSpec,
    disbursement_create,
    project_create,
    project_update,
    projects_bulk_create,
)
from .results import (
    indicator_delete,
    indicator_save,
    indicator_value_delete,
    indicator_value_set,
)

__all__ = [
    "ChosenPriority",
    "ProjectSpec",
    "allocation_set",
    "annual_report_accept",
    "annual_report_create",
    "annual_report_edit_refusal",
    "annual_report_return",
    "annual_report_submit",
    "annual_report_transition",
    "annual_report_update",
    "disbursement_create",
    "fund_year_save",
    "indicator_delete",
    "indicator_save",
    "indicator_value_delete",
    "indicator_value_set",
    "partner_decide_clearance",
    "partner_delete",
    "partner_request_clearance",
    "partner_save",
    "partner_set_sensitivity",
    "plan_amend",
    "plan_approve",
    "plan_create",
    "plan_edit_refusal",
    "plan_priorities_set",
    "plan_priority_add",
    "plan_return",
    "plan_submit",
    "plan_transition",
    "plan_update",
    "plan_withdraw",
    "project_create",
    "project_update",
    "projects_bulk_create",
]
