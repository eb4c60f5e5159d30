"""The embassy API (/api/v1/): a post's own plans, partners, projects, results and payments.

Every list and detail is scoped to the caller's post, so another post's object is 404, as if
it did not exist (R11). Every write is one transaction that calls the services as the calling
user; the views translate HTTP to service calls and nothing else.
"""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.fields import DateTimeField
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from countries.models import Country, Participation, PostMembership
from fund.access import Action, UnknownObject, profile_of
from fund.api import Conflict
from fund.checks import ZERO
from grants import services
from grants.models import (
    AnnualPlan,
    AnnualReport,
    AnnualReportStatus,
    BudgetLine,
    Disbursement,
    FundYear,
    Indicator,
    IndicatorValue,
    MoneyOverview,
    Partner,
    PlanAim,
    PlanPriority,
    PlanStatus,
    PlanTransition,
    Project,
    ProjectStatus,
    ReportTransition,
)
from grants.selectors import money_overview, projects_with_totals
from priorities.models import IntendedResult, Priority

from . import docs
from . import serializers as s
from .base import ETagMixin, IsPostUser, PostUserThrottle, caller_post, idempotent


class ApiPagination(PageNumberPagination):
    """50 per page by default; `page_size` up to 100 (larger asks get 100)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        page = request.query_params.get(self.page_query_param)
        if page is not None and not (page.isascii() and page.isdigit() and int(page) > 0):
            raise ValidationError({"page": [_("Give a page number from 1.")]})
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        asked = request.query_params.get(self.page_size_query_param)
        if asked is not None and not (asked.isascii() and asked.isdigit() and int(asked) > 0):
            raise ValidationError({"page_size": [_("Give a whole number from 1 to 100.")]})
        return super().get_page_size(request)


class PostApiMixin:
    """Only post users (IsPostUser), throttled per user, scoped to the caller's post."""

    permission_classes = [IsPostUser]
    throttle_classes = [PostUserThrottle]
    pagination_class = ApiPagination
    write_action: Action | None = None
    # The services name some inputs as the models do; the API's names for them.
    error_field_aliases = {"fund_year": "year"}

    @property
    def own_post(self):
        return caller_post(self.request)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return self.queryset
        return self.scoped_queryset()

    def scoped_queryset(self):
        return self.queryset


class ByPublicId:
    """Objects are addressed by their public UUID (`{id}`), never by a database key."""

    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"


def _resolve_partner(public_id, post) -> Partner:
    """A partner named in a payload, looked up among the caller's post's partners only: another
    post's partner is unknown exactly as a missing one, and costs the same to refuse (R11, no
    existence by timing); the service reads again, under the post lock."""
    partner = Partner.objects.filter(public_id=public_id, post=post).first()
    if partner is None:
        raise UnknownObject(_("partner"), field="partner")
    return partner


# --- Who am I, reference data, fund years -------------------------------------------------------


class MeView(PostApiMixin, APIView):
    @extend_schema(
        operation_id="me",
        summary="The calling user, their post and role, and the years the post takes part in.",
        responses=s.MeSerializer,
    )
    def get(self, request):
        post = self.own_post
        membership = PostMembership.objects.get(user=request.user)
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
    pagination_class = None


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
    pagination_class = None

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
        return Response(self.get_serializer(self._rows(self.get_queryset()), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self._rows([self.get_object()])[0]).data)


# --- Plans -----------------------------------------------------------------------------------


class CycleDocumentMixin:
    """Plans and annual reports (R10): their steps name the post's own users, and their
    writes validate input with a serializer of their own."""

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "user", None) and profile_of(self.request.user).is_post_user:
            context["post_user_ids"] = set(
                PostMembership.objects.filter(post=self.own_post).values_list("user_id", flat=True)
            )
        return context

    @staticmethod
    def _fund_year(data) -> FundYear:
        """The fund year the new document is for; one the fund does not have is invalid input."""
        fund_year = FundYear.objects.filter(year=data["year"]).first()
        if fund_year is None:
            raise ValidationError({"year": [_("There is no fund year %(year)s.") % data]})
        return fund_year

    def _valid(self, serializer_class, data, *, partial=False):
        serializer = serializer_class(
            data=data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class YearFilter(filters.NumberFilter):
    """A whole calendar year; anything else is a 400, not an empty list."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=2000, max_value=2100, **kwargs)


class PlanFilter(filters.FilterSet):
    year = YearFilter(field_name="fund_year__year")
    status = filters.ChoiceFilter(choices=PlanStatus.choices)

    class Meta:
        model = AnnualPlan
        fields = ["year", "status"]


@extend_schema_view(
    list=extend_schema(summary="The post's annual plans (R10)."),
    retrieve=extend_schema(summary="One annual plan with its priorities and its cycle."),
    create=docs.plan_create,
    update=docs.plan_update,
    partial_update=docs.plan_partial_update,
    destroy=docs.plan_destroy,
    submit=docs.plan_submit,
    add_priority=docs.plan_add_priority,
)
class PlanViewSet(
    ByPublicId,
    CycleDocumentMixin,
    PostApiMixin,
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = AnnualPlan.objects.none()
    serializer_class = s.PlanSerializer
    write_action = Action.EDIT_PLAN
    filterset_class = PlanFilter

    def scoped_queryset(self):
        return (
            AnnualPlan.objects.filter(post=self.own_post)
            .select_related("fund_year")
            .prefetch_related(
                Prefetch(
                    "plan_priorities",
                    queryset=PlanPriority.objects.select_related("priority")
                    .order_by("slot")
                    .prefetch_related(
                        Prefetch(
                            "aims",
                            queryset=PlanAim.objects.select_related("intended_result").order_by(
                                "intended_result__position"
                            ),
                        )
                    ),
                ),
                Prefetch(
                    "transitions",
                    queryset=PlanTransition.objects.select_related("actor").order_by("at", "pk"),
                ),
            )
            .order_by("-fund_year__year")
        )

    @staticmethod
    def _items(priorities):
        # With `intended_results`, the priority's aims are replaced (R13); without, kept.
        return [
            (item["priority"], item["amount"], item["intended_results"])
            if "intended_results" in item
            else (item["priority"], item["amount"])
            for item in priorities
        ]

    @idempotent
    def create(self, request, *args, **kwargs):
        data = self._valid(s.PlanCreateSerializer, request.data)
        with transaction.atomic():
            fund_year = self._fund_year(data)
            plan = services.plan_create(
                actor=request.user,
                post=self.own_post,
                fund_year=fund_year,
                narrative=data.get("narrative", ""),
            )
            if data.get("priorities"):
                services.plan_priorities_set(
                    actor=request.user, plan=plan, items=self._items(data["priorities"])
                )
        plan = self.get_queryset().get(pk=plan.pk)
        return self.created(plan, key=plan.public_id)

    def update(self, request, *args, partial=False, **kwargs):
        with transaction.atomic():
            plan = self.locked_for_write()
            data = self._valid(s.PlanUpdateSerializer, request.data, partial=partial)
            self.check_if_match(plan)
            if "narrative" in data:
                services.plan_update(actor=request.user, plan=plan, narrative=data["narrative"])
            if "priorities" in data:
                services.plan_priorities_set(
                    actor=request.user, plan=plan, items=self._items(data["priorities"])
                )
        return self.respond_with(self.get_object())

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            plan = self.locked_for_write()
            self.check_if_match(plan)
            services.plan_withdraw(actor=request.user, plan=plan)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"], write_action=Action.SUBMIT_PLAN)
    @idempotent
    def submit(self, request, *args, **kwargs):
        with transaction.atomic():
            plan = self.locked_for_write()
            data = self._valid(s.PlanSubmitSerializer, request.data)
            if request.headers.get("If-Match"):
                self.check_if_match(plan)
            services.plan_submit(actor=request.user, plan=plan, comment=data.get("comment", ""))
        return self.respond_with(self.get_object())

    @action(
        detail=True,
        methods=["post"],
        url_path="priorities",
        url_name="add-priority",
        write_action=Action.EDIT_PLAN,
    )
    @idempotent
    def add_priority(self, request, *args, **kwargs):
        # The services name the plan's choice `priorities`; here the body has one `priority`.
        self.error_field_aliases = {**self.error_field_aliases, "priorities": "priority"}
        with transaction.atomic():
            plan = self.locked_for_write()
            data = self._valid(s.ChosenPrioritySerializer, request.data)
            if request.headers.get("If-Match"):
                self.check_if_match(plan)
            if "intended_results" in data:
                # One chosen priority with its aims: the others keep theirs (R13).
                current = [
                    (pp.priority, pp.amount)
                    for pp in plan.plan_priorities.select_related("priority")
                ]
                services.plan_priorities_set(
                    actor=request.user,
                    plan=plan,
                    items=[*current, *self._items([data])],
                )
            else:
                services.plan_priority_add(
                    actor=request.user, plan=plan, priority=data["priority"], amount=data["amount"]
                )
        return self.respond_with(self.get_object())


# --- Annual reports (R10, R13) ------------------------------------------------------------------


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
        return (
            AnnualReport.objects.filter(post=self.own_post)
            .select_related("fund_year")
            .prefetch_related(
                Prefetch(
                    "transitions",
                    queryset=ReportTransition.objects.select_related("actor").order_by("at", "pk"),
                )
            )
            .order_by("-fund_year__year")
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
        with transaction.atomic():
            report = self.locked_for_write()
            data = self._valid(s.PlanSubmitSerializer, request.data)
            if request.headers.get("If-Match"):
                self.check_if_match(report)
            services.annual_report_submit(
                actor=request.user, report=report, comment=data.get("comment", "")
            )
        return self.respond_with(self.get_object())


# --- Partners ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The post's implementing partners (R8, R11)."),
    retrieve=extend_schema(summary="One partner."),
    create=docs.partner_create,
    update=docs.partner_update,
    partial_update=docs.partner_partial_update,
)
class PartnerViewSet(
    ByPublicId,
    PostApiMixin,
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Partner.objects.none()
    serializer_class = s.PartnerSerializer
    write_action = Action.EDIT_PARTNER
    filter_backends = [SearchFilter, OrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["name", "partner_type", "country"]
    ordering = ["name"]

    def scoped_queryset(self):
        return Partner.objects.filter(post=self.own_post)

    def _save(self, data, partner=None):
        # The service reads the country from the database (and refuses one it does not know).
        country = Country(code=data["country_id"].upper())
        return services.partner_save(
            actor=self.request.user,
            post=self.own_post,
            partner=partner,
            name=data["name"],
            partner_type=data["partner_type"],
            country=country,
            # R11: the service refuses a lower sensitivity; clearance is the ministry's.
            sensitivity=data.get("sensitivity"),
        )

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            partner = self._save(serializer.validated_data)
        return self.created(partner, key=partner.public_id)

    def update(self, request, *args, partial=False, **kwargs):
        with transaction.atomic():
            partner = self.locked_for_write()
            serializer = self.get_serializer(partner, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.check_if_match(partner)
            current = {
                "name": partner.name,
                "partner_type": partner.partner_type,
                "country_id": partner.country_id,
            }
            partner = self._save({**current, **serializer.validated_data}, partner=partner)
        return self.respond_with(self.get_object())

    @docs.partner_request_clearance
    @action(
        detail=True,
        methods=["post"],
        url_path="request-clearance",
        url_name="request-clearance",
        write_action=Action.EDIT_PARTNER,
    )
    @idempotent
    def request_clearance(self, request, *args, **kwargs):
        with transaction.atomic():
            partner = self.locked_for_write()
            body = s.ClearanceRequestSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
            services.partner_request_clearance(
                actor=request.user, partner=partner, comment=data.get("comment", "")
            )
        return self.respond_with(self.get_object())


# --- Projects --------------------------------------------------------------------------------


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
        queryset = self.filter_queryset(
            projects_with_totals(Project.objects.filter(post=self.own_post))
        )
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
        rows = self.paginate_queryset(queryset.values(*columns))
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


# --- Indicators and their values (R13) ----------------------------------------------------------


class ProjectChildMixin(PostApiMixin):
    """Endpoints under /projects/{project_id}/: the project must be the caller's (R11)."""

    write_action = Action.REPORT_RESULTS

    @property
    def project(self) -> Project:
        project = getattr(self, "_project", None)
        if project is None:
            project = Project.objects.filter(
                post=self.own_post, public_id=self.kwargs["project_id"]
            ).first()
            if project is None:
                raise NotFound()
            self._project = project
        return project

    def post_id_of(self, instance) -> int:
        return self.project.post_id


@extend_schema_view(
    list=extend_schema(summary="A project's indicators with their values per year (R13)."),
    retrieve=extend_schema(summary="One indicator."),
    create=docs.indicator_create,
    update=docs.indicator_update,
    partial_update=docs.indicator_partial_update,
    destroy=docs.indicator_destroy,
)
class IndicatorViewSet(
    ByPublicId,
    ProjectChildMixin,
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Indicator.objects.none()
    serializer_class = s.IndicatorSerializer

    def scoped_queryset(self):
        return (
            Indicator.objects.filter(project=self.project)
            .select_related("intended_result")
            .prefetch_related(Prefetch("values", queryset=IndicatorValue.objects.order_by("year")))
            .order_by("pk")
        )

    def _save(self, data, indicator=None):
        return services.indicator_save(
            actor=self.request.user,
            project=self.project,
            indicator=indicator,
            intended_result=data["intended_result"]["code"],
            name=data["name"],
            unit=data["unit"],
            baseline=data["baseline"],
            target=data["target"],
        )

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            indicator = self._save(serializer.validated_data)
        return self.created(self.get_queryset().get(pk=indicator.pk), key=indicator.public_id)

    def update(self, request, *args, partial=False, **kwargs):
        with transaction.atomic():
            indicator = self.locked_for_write()
            serializer = self.get_serializer(indicator, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.check_if_match(indicator)
            current = {
                "intended_result": {"code": indicator.intended_result.code},
                "name": indicator.name,
                "unit": indicator.unit,
                "baseline": indicator.baseline,
                "target": indicator.target,
            }
            self._save({**current, **serializer.validated_data}, indicator=indicator)
        return self.respond_with(self.get_object())

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            indicator = self.locked_for_write()
            self.check_if_match(indicator)
            services.indicator_delete(actor=request.user, indicator=indicator)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="The values reported for an indicator, per year (R13)."),
    retrieve=extend_schema(summary="The value reported for one year."),
    create=docs.value_create,
    update=docs.value_update,
    partial_update=docs.value_partial_update,
    destroy=docs.value_destroy,
)
class IndicatorValueViewSet(
    ProjectChildMixin,
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = IndicatorValue.objects.none()
    serializer_class = s.IndicatorValueSerializer
    lookup_field = "year"
    lookup_value_converter = "int"
    pagination_class = None

    @property
    def indicator(self) -> Indicator:
        indicator = getattr(self, "_indicator", None)
        if indicator is None:
            indicator = Indicator.objects.filter(
                project=self.project, public_id=self.kwargs["indicator_id"]
            ).first()
            if indicator is None:
                raise NotFound()
            self._indicator = indicator
        return indicator

    def scoped_queryset(self):
        return IndicatorValue.objects.filter(indicator=self.indicator).order_by("year")

    def _set(self, year, data):
        services.indicator_value_set(
            actor=self.request.user,
            indicator=self.indicator,
            year=year,
            value=data["value"],
            note=data.get("note", ""),
        )
        return self.get_queryset().get(year=year)

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            # Under the post lock: of two first reports for a year, the second is refused.
            from countries.models import Post

            Post.objects.select_for_update().filter(pk=self.project.post_id).first()
            if self.get_queryset().filter(year=data["year"]).exists():
                raise Conflict(
                    _("A value for %(year)s is already reported; change it with PUT.")
                    % {"year": data["year"]}
                )
            value = self._set(data["year"], data)
        return self.created(value, key=value.year)

    def update(self, request, *args, partial=False, **kwargs):
        with transaction.atomic():
            value = self.locked_for_write()
            serializer = s.IndicatorValueUpdateSerializer(data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.check_if_match(value)
            data = {"value": value.value, "note": value.note, **serializer.validated_data}
            value = self._set(value.year, data)
        return self.respond_with(value)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            value = self.locked_for_write()
            self.check_if_match(value)
            services.indicator_value_delete(
                actor=request.user, indicator=self.indicator, year=value.year
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Disbursements (read-only: payments are the ministry's) ---------------------------------------


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


class NotFoundView(APIView):
    """Any other path under /api/v1/: a problem document, not Django's HTML page."""

    permission_classes = [IsPostUser]
    throttle_classes = [PostUserThrottle]
    schema = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound()
