"""Annual reports (R10, R13)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action

from fund.access import Action
from grants import services
from grants.api import docs
from grants.api import serializers as s
from grants.api.base import ETagMixin, idempotent
from grants.models import (
    AnnualReport,
    AnnualReportStatus,
    ReportTransition,
)

from .common import (
    ByPublicId,
    CycleDocumentMixin,
    PostApiMixin,
    YearFilter,
    with_post_user_flag,
)


class AnnualReportFilter(filters.FilterSet):
    year = YearFilter(field_name="fund_year__year")
    status = filters.ChoiceFilter(choices=AnnualReportStatus.choices)

    class Meta:
        model = AnnualReport
        fields = ["year", "status"]


@extend_schema_view(
    list=extend_schema(summary="The post's annual reports, with their figures (R10, R13)."),
    retrieve=extend_schema(
        summary="One annual report: progress per aimed-at intended result beside the figures."
    ),
    create=docs.annual_report_create,
    update=docs.annual_report_update,
    partial_update=docs.annual_report_partial_update,
    submit=docs.annual_report_submit,
)
class AnnualReportViewSet(
    ByPublicId,
    CycleDocumentMixin,
    PostApiMixin,
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = AnnualReport.objects.none()
    serializer_class = s.AnnualReportSerializer
    write_action = Action.EDIT_ANNUAL_REPORT
    filterset_class = AnnualReportFilter

    def get_serializer_class(self):
        if self.action == "list":
            return s.AnnualReportSummarySerializer
        return s.AnnualReportSerializer

    def scoped_queryset(self):
        reports = (
            AnnualReport.objects.filter(post=self.own_post)
            .select_related("fund_year")
            .order_by("-fund_year__year")
        )
        if self.action == "list":  # the summary shows no history
            return reports
        steps = ReportTransition.objects.select_related("actor").order_by("at", "pk")
        return reports.prefetch_related(
            Prefetch("transitions", queryset=with_post_user_flag(steps, "report__post"))
        )

    @staticmethod
    def _progress(items) -> dict:
        return {item["intended_result"]: item["progress"] for item in items}

    @idempotent
    def create(self, request, *args, **kwargs):
        data = self._valid(s.AnnualReportCreateSerializer, request.data)
        with transaction.atomic():
            fund_year = self._fund_year(data)
            report = services.annual_report_create(
                actor=request.user,
                post=self.own_post,
                fund_year=fund_year,
                summary=data.get("summary", ""),
            )
            if data.get("progress"):
                services.annual_report_update(
                    actor=request.user, report=report, progress=self._progress(data["progress"])
                )
        report = self.get_queryset().get(pk=report.pk)
        return self.created(report, key=report.public_id)

    def update(self, request, *args, partial=False, **kwargs):
        with transaction.atomic():
            report = self.locked_for_write()
            data = self._valid(s.AnnualReportUpdateSerializer, request.data, partial=partial)
            self.check_if_match(report)
            services.annual_report_update(
                actor=request.user,
                report=report,
                summary=data.get("summary"),
                progress=self._progress(data["progress"]) if "progress" in data else None,
            )
        return self.respond_with(self.get_object())

    @action(detail=True, methods=["post"], write_action=Action.SUBMIT_ANNUAL_REPORT)
    @idempotent
    def submit(self, request, *args, **kwargs):
        return self.submit_document(
            request,
            lambda actor, report, comment: services.annual_report_submit(
                actor=actor, report=report, comment=comment
            ),
        )
