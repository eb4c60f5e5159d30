"""The grants app's tables, one module per sub-domain (fund years, plans, annual reports,
partners, projects, results). Models hold data and what the database itself can guarantee
(constraints); rules that span rows live in `grants.services`, which every writer uses.
"""

from grants.cycles import AnnualReportStatus, PlanStatus

from .annual_reports import AnnualReport, ReportTransition, ResultProgress
from .common import CycleTransition, RecordedStep, money_field, non_negative
from .fund_years import Allocation, FundYear, MoneyOverview
from .idempotency import IdempotentRequest
from .partners import (
    SENSITIVITY_RANK,
    Clearance,
    Partner,
    PartnerDecision,
    PartnerType,
    Sensitivity,
)
from .plans import AnnualPlan, PlanAim, PlanPriority, PlanTransition
from .projects import (
    COMMITTED_PROJECT_STATUSES,
    COUNTING_PROJECT_STATUSES,
    RUNNING_PROJECT_STATUSES,
    BudgetLine,
    BudgetLineQuerySet,
    BudgetTotal,
    Disbursement,
    Project,
    ProjectQuerySet,
    ProjectStatus,
)
from .results import Indicator, IndicatorValue

__all__ = [
    "COMMITTED_PROJECT_STATUSES",
    "COUNTING_PROJECT_STATUSES",
    "RUNNING_PROJECT_STATUSES",
    "SENSITIVITY_RANK",
    "Allocation",
    "AnnualPlan",
    "AnnualReport",
    "AnnualReportStatus",
    "BudgetLine",
    "BudgetLineQuerySet",
    "BudgetTotal",
    "Clearance",
    "CycleTransition",
    "Disbursement",
    "FundYear",
    "IdempotentRequest",
    "Indicator",
    "IndicatorValue",
    "MoneyOverview",
    "Partner",
    "PartnerDecision",
    "PartnerType",
    "PlanAim",
    "PlanPriority",
    "PlanStatus",
    "PlanTransition",
    "Project",
    "ProjectQuerySet",
    "ProjectStatus",
    "RecordedStep",
    "ReportTransition",
    "ResultProgress",
    "Sensitivity",
    "money_field",
    "non_negative",
]
