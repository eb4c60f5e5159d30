"""Indicators and their reported values, per project (R13)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from fund.access import Action
from fund.api import Conflict
from grants import services
from grants.api import docs
from grants.api import serializers as s
from grants.api.base import ETagMixin, idempotent
from grants.models import (
    Indicator,
    IndicatorValue,
    Project,
)

from .common import ByPublicId, PostApiMixin


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
