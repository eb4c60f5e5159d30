"""/api/v1/: the embassy API."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(use_regex_path=False)
router.register("priorities", views.PriorityViewSet, basename="priority")
router.register("fund-years", views.FundYearViewSet, basename="fund-year")
router.register("plans", views.PlanViewSet, basename="plan")
router.register("annual-reports", views.AnnualReportViewSet, basename="annual-report")
router.register("partners", views.PartnerViewSet, basename="partner")
router.register("projects", views.ProjectViewSet, basename="project")
router.register(
    "projects/<uuid:project_id>/indicators", views.IndicatorViewSet, basename="indicator"
)
router.register(
    "projects/<uuid:project_id>/indicators/<uuid:indicator_id>/values",
    views.IndicatorValueViewSet,
    basename="indicator-value",
)
router.register("disbursements", views.DisbursementViewSet, basename="disbursement")

app_name = "api"
urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    *router.urls,
    # Anything else under /api/v1/ is a problem document (401 or 404), never an HTML page.
    re_path(r"^[\s\S]*$", views.NotFoundView.as_view(), name="not-found"),
]
