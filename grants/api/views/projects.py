"""Projects with their budget lines (R4, R5, R8, R9), and the post's disbursements
(read-only: payments are the ministry's).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter

from fund.access import Action, UnknownObject
from grants import services
from grants.api import docs, pages
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

from .common import ByPublicId, NamedSearchFilter, PostApiMixin, YearFilter


def _resolve_partner(public_id, post) -> Partner:
    """A partner named in a payload, looked up among the caller's post's partners only: another
    post's partner is unknown exactly as a missing one, and costs the same to refuse (R11, no
    existence by timing); the service reads again, under the post lock."""
    partner = Partner.objects.filter(public_id=public_id, post=post).first()
    if partner is None:
        raise UnknownObject(_("partner"), field="partner")
    return partner


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
    filter_backends = [filters.DjangoFilterBackend, NamedSearchFilter, OrderingFilter]
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
        """On PostgreSQL the page is one statement that writes the items' JSON
        (grants.api.pages: a fraction of the ORM's and the serializer's CPU, the API's
        busiest list); elsewhere the serializer's."""
        if connection.vendor != "postgresql":
            return super().list(request, *args, **kwargs)
        conditions = pages.project_conditions(
            self.own_post.pk, self.filter_values(request), self.search_terms(request)
        )
        order = pages.order_by(self.ordering_terms(request), pages.PROJECT_ORDER_COLUMNS, "t.id")

        def page(limit: int, offset: int) -> tuple[int, str]:
            statement = pages.page_statement(
                "grants_project",
                pages.PROJECT_ITEM,
                conditions,
                order,
                limit=limit,
                offset=offset,
                children=pages.PROJECT_CHILDREN,
                joins=pages.PROJECT_JOINS,
            )
            return pages.run(statement, conditions.params)

        return self.paginator.json_page(request, page)

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
