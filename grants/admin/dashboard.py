"""The ministry's start page: one fund year at a glance (R5, R10)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from fund.admin import is_ministry
from fund.checks import ZERO
from grants.models import FundYear
from grants.selectors import fund_year_dashboard, plan_year_at_hand


def chart_rows(per_priority: list[dict]) -> list[dict]:
    """Bar widths (percent of the largest amount) for the per-priority chart: the plan's
    split, project money (planned + committed) and payments."""
    largest = max(
        (max(row["in_plan"], row["planned"] + row["committed"]) for row in per_priority),
        default=ZERO,
    )

    def width(amount):
        return float(amount / largest * 100) if largest else 0.0

    return [
        {
            "label": str(row["priority"]),
            "in_plan": width(row["in_plan"]),
            "projects": width(row["planned"] + row["committed"]),
            "disbursed": width(row["disbursed"]),
        }
        for row in per_priority
    ]


def dashboard_view(request):
    if not is_ministry(request.user):
        raise PermissionDenied
    years = list(FundYear.objects.order_by("-year"))
    asked = request.GET.get("year", "")
    fund_year = next((y for y in years if asked.isdigit() and y.year == int(asked)), None)
    if fund_year is None:  # the year whose plans are at hand (in December: the next one's)
        fund_year = plan_year_at_hand(years, timezone.localdate())
    context = {
        **admin.site.each_context(request),
        "title": _("Fund year at a glance"),
        "years": years,
    }
    if fund_year is not None:
        overview = fund_year_dashboard(fund_year)
        chart = chart_rows(overview["per_priority"])
        context.update(overview, chart=chart, chart_height=len(chart) * 60)
    return TemplateResponse(request, "admin/grants/dashboard.html", context)
