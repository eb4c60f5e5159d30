"""The post's implementing partners (R8, R11)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter

from countries.models import Country
from fund.access import Action
from grants import services
from grants.api import docs
from grants.api import serializers as s
from grants.api.base import ETagMixin, idempotent
from grants.models import (
    Partner,
)

from .common import ByPublicId, NamedSearchFilter, PostApiMixin


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
    filter_backends = [NamedSearchFilter, OrderingFilter]
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
