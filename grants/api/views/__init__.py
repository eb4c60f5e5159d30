"""The embassy API (/api/v1/): a post's own plans, partners, projects, results and payments.

Every list and detail is scoped to the caller's post, so another post's object is 404, as if
it did not exist (R11). Every write is one transaction that calls the services as the calling
user; the views translate HTTP to service calls and nothing else.

One module per sub-domain; urls.py registers what this package hands on.
"""

from .annual_reports import AnnualReportViewSet
from .common import NotFoundView
from .partners import PartnerViewSet
from .plans import PlanViewSet
from .projects import DisbursementViewSet, ProjectViewSet
from .reference import FundYearViewSet, MeView, PriorityViewSet
from .results import IndicatorValueViewSet, IndicatorViewSet

__all__ = [
    "AnnualReportViewSet",
    "DisbursementViewSet",
    "FundYearViewSet",
    "IndicatorValueViewSet",
    "IndicatorViewSet",
    "MeView",
    "NotFoundView",
    "PartnerViewSet",
    "PlanViewSet",
    "PriorityViewSet",
    "ProjectViewSet",
]
