"""Annual plans (R2, R3, R5, R10, R13)."""

from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import OuterRef, Prefetch
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fund.access import Action
from grants import services
from grants.api import docs, pages
from grants.api import serializers as s
from grants.api.base import ETagMixin, idempotent
from grants.cycles import PLAN_CYCLE
from grants.models import (
    AnnualPlan,
    PlanAim,
    PlanPriority,
    PlanStatus,
    PlanTransition,
)

from .common import (
    ByPublicId,
    CycleDocumentMixin,
    PostApiMixin,
    YearFilter,
    with_post_user_flag,
)


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
        chosen = PlanPriority.objects.select_related("priority").order_by("slot")
        if connection.vendor == "postgresql":
            # The aims' codes as an array with each priority: one query less than a prefetch.
            aims = PlanAim.objects.filter(plan_priority=OuterRef("pk"))
            chosen = chosen.annotate(
                aim_codes=ArraySubquery(
                    aims.order_by("intended_result__position").values("intended_result__code")
                )
            )
        else:
            aims = PlanAim.objects.select_related("intended_result")
            chosen = chosen.prefetch_related(
                Prefetch("aims", queryset=aims.order_by("intended_result__position"))
            )
        steps = PlanTransition.objects.select_related("actor").order_by("at", "pk")
        return (
            AnnualPlan.objects.filter(post=self.own_post)
            .select_related("fund_year")
            .prefetch_related(
                Prefetch("plan_priorities", queryset=chosen),
                Prefetch("transitions", queryset=with_post_user_flag(steps, "plan__post")),
            )
            .order_by("-fund_year__year")
        )

    def list(self, request, *args, **kwargs):
        """On PostgreSQL the page is one statement that writes the plans' JSON, with their
        priorities, aims and steps (grants.api.pages); elsewhere the serializer's."""
        if connection.vendor != "postgresql":
            return super().list(request, *args, **kwargs)
        conditions = pages.plan_conditions(self.own_post.pk, self.filter_values(request))
        order = "(SELECT y.year FROM grants_fundyear y WHERE y.id = t.fund_year_id) DESC, t.id"
        editable = sorted(PLAN_CYCLE.editable)

        def page(limit: int, offset: int) -> tuple[int, str]:
            statement = pages.page_statement(
                "grants_annualplan", pages.PLAN_ITEM, conditions, order, limit=limit, offset=offset
            )
            return pages.run(statement, {**conditions.params, "editable": editable})

        return self.paginator.json_page(request, page)

    @staticmethod
    def _items(priorities):
        # With `intended_results`, the priority's aims are replaced (R13); without, kept.
        return [
            services.ChosenPriority(item["priority"], item["amount"], item.get("intended_results"))
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
        return self.submit_document(
            request,
            lambda actor, plan, comment: services.plan_submit(
                actor=actor, plan=plan, comment=comment
            ),
        )

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
            # The others keep their aims; this one aims at what it names, or at all (R13).
            services.plan_priority_add(
                actor=request.user,
                plan=plan,
                priority=data["priority"],
                amount=data["amount"],
                aims=data.get("intended_results"),
            )
        return self.respond_with(self.get_object())
