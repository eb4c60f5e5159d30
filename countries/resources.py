"""Import and export of posts, participations and allocations (django-import-export).

Every imported row is written by the same service as a form in the admin, as the importing
user, so every rule applies (R1, R5, R6, R7, R11). A refusal is a row error naming its rule;
the admin imports in one transaction and writes nothing when any row fails.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from fund.checks import FundRuleError
from fund.columns import LabelledColumns
from grants import services as grant_services
from grants.models import Allocation, FundYear

from . import services
from .models import Country, Participation, Post


class YesNoWidget(widgets.BooleanWidget):
    """ja/nee, yes/no, 1/0, true/false; anything else is an error, never a silent "no"."""

    YES = {"1", "ja", "j", "yes", "y", "true", "waar"}
    NO = {"0", "nee", "n", "no", "false", "onwaar"}

    def clean(self, value, row=None, **kwargs):
        text = str(value).strip().lower() if value is not None else ""
        if text in self.YES:
            return True
        if text in self.NO:
            return False
        raise ValueError(_("Give ja or nee (or 1 or 0), not '%(value)s'.") % {"value": text[:20]})


class KnownKeyWidget(widgets.ForeignKeyWidget):
    """A post by code or a fund year by year; one that does not exist is named in the error,
    not Django's "matching query does not exist"."""

    def __init__(self, model, field, message):
        super().__init__(model, field=field)
        self.message = message

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row=row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(self.message % {"value": str(value)[:40]}) from None


class ServiceResource(LabelledColumns, resources.ModelResource):
    """Rows are saved by a service; its refusal becomes the row's error, naming the rule."""

    def save_instance(self, instance, is_create, row, **kwargs):
        try:
            self.write(instance, user=kwargs["user"])
        except FundRuleError as error:
            field = error.field if error.field in self.fields else NON_FIELD_ERRORS
            raise ValidationError({field: f"[{error.rule}] {error.formatted_message}"}) from error

    def write(self, instance, *, user):
        raise NotImplementedError


class PostResource(ServiceResource):
    host_country = fields.Field(
        attribute="host_country",
        column_name="host_country",
        widget=KnownKeyWidget(Country, "code", _("'%(value)s' is not an ISO 3166 country code.")),
    )

    class Meta:
        model = Post
        fields = ["code", "name", "kind", "city", "host_country"]
        import_id_fields = ["code"]
        clean_model_instances = True
        skip_unchanged = True

    def write(self, instance, *, user):
        saved = services.post_save(actor=user, post=instance)
        instance.pk = saved.pk


class PostAndYear(ServiceResource):
    """Rows about one post in one fund year, named by post code and year."""

    post = fields.Field(
        attribute="post",
        column_name="post",
        widget=KnownKeyWidget(Post, "code", _("There is no post with code '%(value)s'.")),
    )
    fund_year = fields.Field(
        attribute="fund_year",
        column_name="fund_year",
        widget=KnownKeyWidget(FundYear, "year", _("There is no fund year %(value)s.")),
    )


class ParticipationResource(PostAndYear):
    selected = fields.Field(attribute="selected", column_name="selected", widget=YesNoWidget())

    class Meta:
        model = Participation
        fields = ["post", "fund_year", "selected", "decision_note"]
        import_id_fields = ["post", "fund_year"]
        skip_unchanged = True

    def write(self, instance, *, user):
        saved = services.participation_set(
            actor=user,
            post=instance.post,
            fund_year=instance.fund_year,
            selected=bool(instance.selected),
            decision_note=instance.decision_note or "",
        )
        instance.pk = saved.pk


class AllocationResource(PostAndYear):
    class Meta:
        model = Allocation
        fields = ["post", "fund_year", "amount", "note"]
        import_id_fields = ["post", "fund_year"]
        skip_unchanged = True

    def write(self, instance, *, user):
        saved = grant_services.allocation_set(
            actor=user,
            post=instance.post,
            fund_year=instance.fund_year,
            amount=instance.amount,
            note=instance.note or "",
        )
        instance.pk = saved.pk
