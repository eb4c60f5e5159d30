"""Projects with their budget lines (R4, R5, R8, R9), and the post's disbursements
(read-only: payments are the ministry's).
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.fields import DateTimeField
from rest_framework.filters import OrderingFilter, SearchFilter

from fund.access import Action, UnknownObject
from grants import services
from grants.api import docs
from grants.api import serializers as s
from grants.api.base import ETagMixin, idempotent
from grants.models import (
    BudgetLine,
    Disbursement,
    Partner,
    Project,
    ProjectStatus,
)
from grants.selectors import projects_with_totals
from priorities.models import IntendedResult

from .common import ByPublicId, PostApiMixin, YearFilter


def _resolve_partner(public_id, post) -> Partner:
    """A partner named in a payload, looked up among the caller's post's partners only: another
    post's partner is unknown exactly as a missing one, and costs the same to refuse (R11, no
    existence by timing); the service reads again, under the post lock."""
    partner = Partner.objects.filter(public_id=public_id, post=post).first()
    if partner is None:
        raise UnknownObject(_("partner"), field="partner")
    return partner


# The columns of a project row in the list (ProjectViewSet.list).
_PROJECT_ROW = (
    "id",
    "public_id",
    "partner__public_id",
    "priority__code",
    "title",
    "description",
    "start_date",
    "end_date",
    "status",
    "total_budget",
    "total_disbursed",
    "created_at",
    "updated_at",
)
_DATETIME = DateTimeField()


def _money(amount) -> str:
    """As the serializers' DecimalField(decimal_places=2) writes it."""
    return f"{amount:.2f}"


class ProjectFilter(filters.FilterSet):
    year = YearFilter(method="in_year", label="Has a budget line in this year")
    status = filters.ChoiceFilter(choices=ProjectStatus.choices)
    priority = filters.CharFilter(field_name="priority__code", label="Priority code")
    partner = filters.UUIDFilter(field_name="partner__public_id", label="Partner id")

    class Meta:
        model = Project
        fields = ["year", "status", "priority", "partner"]

    def in_year(self, queryset, name, value):
        lines = BudgetLine.objects.filter(project=OuterRef("pk"), year=value)
        return queryset.filter(Exists(lines))


@extend_schema_view(
    list=extend_schema(summary="The post's projects, with budget lines per year."),
    retrieve=extend_schema(summary="One project."),
    create=docs.project_create,
    update=docs.project_update,
    partial_update=docs.project_partial_update,
)
class ProjectViewSet(
    ByPublicId,
    PostApiMixin,
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Project.objects.none()
    serializer_class = s.ProjectSerializer
    write_action = Action.EDIT_PROJECT
    filter_backends = [filters.DjangoFilterBackend, SearchFilter, OrderingFilter]
    filterset_class = ProjectFilter
    search_fields = ["title"]
    ordering_fields = ["title", "start_date", "end_date", "status", "created_at", "updated_at"]
    ordering = ["start_date", "title", "pk"]

    def scoped_queryset(self):
        return projects_with_totals(
            Project.objects.filter(post=self.own_post)
            .select_related("partner", "priority")
            .prefetch_related(
                Prefetch("budget_lines", queryset=BudgetLine.objects.order_by("year")),
                Prefetch("intended_results", queryset=IntendedResult.objects.order_by("code")),
            )
        )

    def list(self, request, *args, **kwargs):
        """A page of projects exactly as ProjectSerializer shows each one, built from rows
        rather than model instances, for the API's busiest list: on PostgreSQL two queries
        (count, and the page with its budget lines and intended results as arrays), elsewhere
        four; a fraction of the CPU of serializing objects."""
        counted = self.filter_queryset(Project.objects.filter(post=self.own_post))
        queryset = projects_with_totals(counted)
        in_arrays = connection.vendor == "postgresql"
        columns = _PROJECT_ROW
        if in_arrays:
            lines = BudgetLine.objects.filter(project=OuterRef("pk")).order_by("year")
            served = IntendedResult.objects.filter(projects=OuterRef("pk")).order_by("code")
            queryset = queryset.annotate(
                budget_years=ArraySubquery(lines.values("year")),
                budget_amounts=ArraySubquery(lines.values("amount")),
                result_codes=ArraySubquery(served.values("code")),
            )
            columns = (*columns, "budget_years", "budget_amounts", "result_codes")
        rows = self.paginator.paginate_queryset(
            queryset.values(*columns), self.request, view=self, count_of=counted
        )
        if in_arrays:
            budgets = {
                row["id"]: [
                    {"year": line_year, "amount": _money(amount)}
                    for line_year, amount in zip(
                        row["budget_years"], row["budget_amounts"], strict=True
                    )
                ]
                for row in rows
            }
            results = {row["id"]: row["result_codes"] for row in rows}
        else:
            budgets, results = self._children_of([row["id"] for row in rows])
        return self.get_paginated_response(
            [
                {
                    "id": str(row["public_id"]),
                    "partner": str(row["partner__public_id"]),
                    "priority": row["priority__code"],
                    "title": row["title"],
                    "description": row["description"],
                    "start_date": row["start_date"].isoformat(),
                    "end_date": row["end_date"].isoformat(),
                    "status": row["status"],
                    "intended_results": results.get(row["id"], []),
                    "budget": budgets.get(row["id"], []),
                    "total_budget": _money(row["total_budget"]),
                    "disbursed": _money(row["total_disbursed"]),
                    "created_at": _DATETIME.to_representation(row["created_at"]),
                    "updated_at": _DATETIME.to_representation(row["updated_at"]),
                }
                for row in rows
            ]
        )

    @staticmethod
    def _children_of(ids):
        """Budget lines and intended-result codes of these projects, one query each."""
        budgets = defaultdict(list)
        lines = BudgetLine.objects.filter(project_id__in=ids).order_by("project_id", "year")
        for project_id, line_year, amount in lines.values_list("project_id", "year", "amount"):
            budgets[project_id].append({"year": line_year, "amount": _money(amount)})
        results = defaultdict(list)
        served = Project.intended_results.through.objects.filter(project_id__in=ids)
        for project_id, code in served.order_by("project_id", "intendedresult__code").values_list(
            "project_id", "intendedresult__code"
        ):
            results[project_id].append(code)
        return budgets, results

    @staticmethod
    def _arguments(data, post) -> dict:
        """Service arguments from validated input: referenced objects resolved (R11, R13)."""
        arguments = {}
        for name in ("title", "description", "start_date", "end_date", "status"):
            if name in data:
                arguments[name] = data[name]
        if "partner" in data:
            arguments["partner"] = _resolve_partner(data["partner"]["public_id"], post)
        if "priority" in data:
            arguments["priority"] = data["priority"]["code"]
        if "intended_results" in data:
            arguments["intended_results"] = data["intended_results"]  # codes (R13)
        if "budget_lines" in data:
            arguments["budget"] = [(line["year"], line["amount"]) for line in data["budget_lines"]]
        return arguments

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            project = services.project_create(
                actor=request.user,
                post=self.own_post,
                **self._arguments(serializer.validated_data, self.own_post),
            )
        project = self.get_queryset().get(pk=project.pk)
        return self.created(project, key=project.public_id)

    def update(self, request, *args, partial=False, **kwargs):
        with transaction.atomic():
            project = self.locked_for_write()
            serializer = self.get_serializer(project, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.check_if_match(project)
            arguments = self._arguments(serializer.validated_data, self.own_post)
            if not partial:  # PUT replaces: what is left out is emptied
                arguments.setdefault("intended_results", [])
                arguments.setdefault("budget", {})
            services.project_update(actor=request.user, project=project, **arguments)
        return self.respond_with(self.get_object())


class DisbursementFilter(filters.FilterSet):
    project = filters.UUIDFilter(field_name="project__public_id", label="Project id")
    year = YearFilter(field_name="date__year", label="Calendar year of payment")

    class Meta:
        model = Disbursement
        fields = ["project", "year"]


@extend_schema_view(
    list=extend_schema(summary="Payments to the post's projects (R5); made by the ministry."),
    retrieve=extend_schema(summary="One payment."),
)
class DisbursementViewSet(ByPublicId, PostApiMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Disbursement.objects.none()
    serializer_class = s.DisbursementSerializer
    filterset_class = DisbursementFilter

    def scoped_queryset(self):
        return (
            Disbursement.objects.filter(project__post=self.own_post)
            .select_related("project")
            .order_by("-date", "pk")
        )
