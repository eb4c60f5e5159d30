"""The read log in the admin, for fund managers: who saw what, when and through which door;
per user and per object (filter, or search by a public id), with an XLSX export that is
itself recorded. Nothing can be added, changed or deleted here, by anyone (R11)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from fund.access import Action, Role, can, profile_of
from fund.columns import LabelledExportForm

from . import services
from .inspection import MAX_HOURS
from .inspection import grant as grant_inspection
from .inspection import revoke as revoke_inspection
from .models import Inspection, Kind, Read


def may_read_the_log(user) -> bool:
    roles = profile_of(user).roles
    return bool(user.is_active and user.is_staff and roles & {Role.FUND_MANAGER, Role.SUPERUSER})


class ReadResource(resources.ModelResource):
    class Meta:
        model = Read
        fields = ("at", "user__username", "kind", "door", "path", "year", "count",
                  "object_ids", "purpose")  # fmt: skip
        export_order = fields


@admin.register(Read)
class ReadAdmin(ExportMixin, admin.ModelAdmin):
    resource_classes = [ReadResource]
    export_form_class = LabelledExportForm
    formats = [base_formats.XLSX]
    list_display = ["at", "user", "kind", "door", "year", "count", "path", "purpose"]
    list_filter = ["kind", "door", "year", ("user", admin.RelatedOnlyFieldListFilter), "at"]
    date_hierarchy = "at"
    search_fields = ["path", "purpose", "user__username"]
    search_help_text = _("A user name, a page, or an object's public id.")
    list_select_related = ["user"]
    show_full_result_count = False
    list_per_page = 50  # the rows' rendering is most of the page (docs/performance.md)

    def get_search_results(self, request, queryset, search_term):
        searched, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:  # the filtered rows that name the object, besides the text matches
            searched = searched | queryset.filter(object_ids__icontains=search_term.strip())
        return searched, duplicates

    def has_module_permission(self, request):
        return may_read_the_log(request.user)

    def has_view_permission(self, request, obj=None):
        return may_read_the_log(request.user)

    def has_export_permission(self, request):
        return may_read_the_log(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        services.note(request, Kind.READ_LOG)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        services.note(request, Kind.READ_LOG, [object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        services.note(request, Kind.READ_LOG, count=queryset.count())
        return super().get_export_data(file_format, request, queryset, **kwargs)


class InspectionForm(forms.ModelForm):
    hours = forms.IntegerField(
        label=_("hours"), min_value=1, max_value=MAX_HOURS, initial=2,
        # Formatted when shown, in the reader's language (a lazy string % is formatted now).
        help_text=lazy(
            lambda: _("How long the access lasts from now (at most %(max)s hours).")
            % {"max": MAX_HOURS},
            str,
        )(),
    )  # fmt: skip

    class Meta:
        model = Inspection
        fields = ["person_name", "person_role", "fund_year", "purpose"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "fund_year" in self.fields:  # only a year from 2026 has a confidential list
            years = self.fields["fund_year"].queryset
            self.fields["fund_year"].queryset = years.filter(year__gte=2026)


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    """Vertrouwelijke inzage (R11): granted here by a fund manager, the one-time link shown
    once, revoked with the action."""

    form = InspectionForm
    list_display = ["person_name", "person_role", "fund_year", "starts_at", "ends_at",
                    "link_used_at", "revoked_at", "state"]  # fmt: skip
    list_filter = ["fund_year"]
    actions = ["revoke"]
    readonly_fields = ["person_name", "person_role", "fund_year", "purpose", "starts_at",
                       "ends_at", "granted_by", "granted_at", "link_used_at", "revoked_at",
                       "revoked_by"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["person_name", "person_role", "fund_year", "hours", "purpose"]
        return self.readonly_fields

    @admin.display(description=_("state"))
    def state(self, obj):
        if obj.revoked_at:
            return _("revoked")
        return _("open") if obj.is_open() else _("closed")

    def _may(self, request) -> bool:
        return (
            request.user.is_active
            and request.user.is_staff
            and can(request.user, Action.GRANT_INSPECTION)
        )

    def has_module_permission(self, request):
        return self._may(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request)

    def has_add_permission(self, request):
        return self._may(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return self._may(request)

    def save_model(self, request, obj, form, change):
        made, token = grant_inspection(
            actor=request.user, person_name=obj.person_name, person_role=obj.person_role,
            fund_year=obj.fund_year, hours=form.cleaned_data["hours"], purpose=obj.purpose,
        )  # fmt: skip
        obj.pk = made.pk
        link = settings.FUND_SITE_URL + reverse("inspection-link", args=[token])
        self.message_user(
            request,
            _("Hand this one-time link to %(name)s in person; it is shown only now and works "
              "once, until %(until)s: %(link)s")
            % {"name": made.person_name, "link": link,
               "until": date_format(timezone.localtime(made.ends_at), "DATETIME_FORMAT")},
            messages.WARNING,
        )  # fmt: skip

    def log_addition(self, request, obj, message):
        return None  # the inspection itself is the record

    @admin.action(description=_("Revoke the chosen inspections now"), permissions=["revoke"])
    def revoke(self, request, queryset):
        for inspection in queryset:
            revoke_inspection(actor=request.user, inspection=inspection)
        self.message_user(request, _("Revoked."), messages.SUCCESS)
