"""Indicators and their reported values (R13)."""

from __future__ import annotations

from functools import partial

from django.contrib import admin
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from fund.access import Action
from fund.admin import (
    PolicyInline,
    ReadOnlyAdmin,
    inline_data,
    replaced_or_deleted,
)
from grants import services
from grants.models import (
    Indicator,
    IndicatorValue,
)

from .common import ServiceHistoryAdmin


class IndicatorValueInline(PolicyInline, admin.TabularInline):
    write_action = Action.REPORT_RESULTS
    model = IndicatorValue
    fields = ["year", "value", "note"]
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(ServiceHistoryAdmin):
    write_action = Action.REPORT_RESULTS
    list_display = ["name", "project", "aim", "unit", "baseline", "target", "latest"]
    list_select_related = ["project", "intended_result"]
    list_filter = [("intended_result__priority", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "project__title", "project__post__code"]
    autocomplete_fields = ["project", "intended_result"]
    inlines = [IndicatorValueInline]
    delete_service = services.indicator_delete
    action_argument = "indicator"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("values")

    @admin.display(description=_("intended result"), ordering="intended_result")
    def aim(self, obj):
        """The aim's first words, all of it on hover: its full text would push the values
        off a 1400 px screen."""
        text = str(obj.intended_result)
        return format_html('<abbr title="{}">{}</abbr>', text, Truncator(text).chars(48))

    @admin.display(description=_("latest reported"))
    def latest(self, obj):
        values = list(obj.values.all())
        if not values:
            return "—"
        last = values[-1]
        return format_html("{} ({})", number_format(last.value, use_l10n=True), last.year)

    def save_model(self, request, obj, form, change):
        saved = services.indicator_save(
            actor=request.user,
            indicator=obj if change else None,
            project=obj.project,
            intended_result=obj.intended_result,
            name=obj.name,
            unit=obj.unit,
            baseline=obj.baseline,
            target=obj.target,
        )
        self.adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            for inline_form, data, gone in inline_data(formset):
                if not (gone or inline_form.has_changed()):
                    continue
                delete = partial(
                    services.indicator_value_delete, actor=request.user, indicator=form.instance
                )
                if replaced_or_deleted(
                    inline_form, data, gone, "year", lambda year, delete=delete: delete(year=year)
                ):
                    continue
                services.indicator_value_set(
                    actor=request.user,
                    indicator=form.instance,
                    year=data["year"],
                    value=data["value"],
                    note=data.get("note", ""),
                )


@admin.register(IndicatorValue)
class IndicatorValueAdmin(ReadOnlyAdmin):
    list_display = ["indicator", "year", "value"]
    list_filter = ["year"]
    list_select_related = ["indicator"]
    search_fields = ["indicator__name", "indicator__project__title"]
