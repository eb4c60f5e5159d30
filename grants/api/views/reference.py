"""Who am I, the reference data and the fund years as a post sees them."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from countries.models import Participation
from fund.checks import ZERO
from grants.api import serializers as s
from grants.models import (
    AnnualPlan,
    AnnualReport,
    FundYear,
    MoneyOverview,
)
from grants.selectors import money_overview
from priorities.models import IntendedResult, Priority

from .common import PostApiMixin


class MeView(PostApiMixin, APIView):
    @extend_schema(
        operation_id="me",
        summary="The calling user, their post and role, and the years the post takes part in.",
        responses=s.MeSerializer,
    )
    def get(self, request):
        post = self.own_post
        membership = request.user.post_membership  # read with the token (IsPostUser: one)
        years = Participation.objects.filter(post=post, selected=True).values_list(
            "fund_year__year", flat=True
        )
        data = {
            "username": request.user.get_username(),
            "post": s.PostSerializer(post).data,
            "role": membership.role,
            "years": sorted(years),
        }
        return Response(s.MeSerializer(data).data)


@extend_schema_view(
    list=extend_schema(summary="The 5+1 thematic priorities and their intended results (R3)."),
    retrieve=extend_schema(summary="One priority by code."),
)
class PriorityViewSet(PostApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.PrioritySerializer
    queryset = Priority.objects.prefetch_related(
        Prefetch("intended_results", queryset=IntendedResult.objects.order_by("position"))
    ).order_by("position")
    lookup_field = "code"
    lookup_value_converter = "slug"


@extend_schema_view(
    list=extend_schema(
        summary="Fund years: deadlines, the post's participation and its money (R5, R6)."
    ),
    retrieve=extend_schema(summary="One fund year."),
)
class FundYearViewSet(PostApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.FundYearSerializer
    queryset = FundYear.objects.order_by("-year")
    lookup_field = "year"
    lookup_value_converter = "int"

    def _rows(self, fund_years):
        post = self.own_post
        fund_years = list(fund_years)
        years = [fund_year.year for fund_year in fund_years]
        allocations = money_overview(
            MoneyOverview.objects.filter(post=post, fund_year__year__in=years).select_related(
                "post", "fund_year"
            )
        )
        money = {row.fund_year.year: row for row in allocations}
        selected = set(
            Participation.objects.filter(
                post=post, selected=True, fund_year__year__in=years
            ).values_list("fund_year__year", flat=True)
        )
        plans = dict(
            AnnualPlan.objects.filter(post=post, fund_year__year__in=years).values_list(
                "fund_year__year", "public_id"
            )
        )
        reports = dict(
            AnnualReport.objects.filter(post=post, fund_year__year__in=years).values_list(
                "fund_year__year", "public_id"
            )
        )
        rows = []
        for fund_year in fund_years:
            row = money.get(fund_year.year)
            rows.append(
                {
                    "year": fund_year.year,
                    "plan_submission_deadline": fund_year.plan_submission_deadline,
                    "review_deadline": fund_year.review_deadline,
                    "report_deadline": fund_year.report_deadline,
                    "min_project_size": fund_year.min_project_size,
                    "participates": fund_year.year in selected,
                    "plan": plans.get(fund_year.year),
                    "annual_report": reports.get(fund_year.year),
                    "money": {
                        "allocated": row.amount if row else ZERO,
                        "in_plan": row.in_plan if row else ZERO,
                        "planned": row.planned if row else ZERO,
                        "committed": row.committed if row else ZERO,
                        "disbursed": row.disbursed if row else ZERO,
                        "remaining": row.remaining if row else ZERO,
                    },
                }
            )
        return rows

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(self._rows(page), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self._rows([self.get_object()])[0]).data)
