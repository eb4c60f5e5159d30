"""Admin plumbing shared by the apps: writes go through services; a rule breach is a form error."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers as admin_helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats

from .access import Action, can, profile_of
from .checks import FundRuleError
from .columns import LabelledExportForm


def is_ministry(user) -> bool:
    """Ministry staff (a ministry group), superusers: the people the admin is for. Embassy
    staff use the API, even if someone gave their account staff status."""
    return bool(user.is_active and user.is_staff and profile_of(user).is_ministry)


class CappedCountPaginator(Paginator):
    """The admin's paginator for a large table: a search or filter counts at most CAP + 1
    rows. A search for a word in nearly every one of 100 000 projects spent 100 ms counting
    them; past the cap the list says "more than 1000" and offers the pages of its first
    rows (refine the search or filter for the rest). The whole table is counted exactly.
    Its templates: admin/<app>/<model>/pagination.html and search_form.html."""

    CAP = 1000

    @cached_property
    def count(self):
        rows = self.object_list.order_by()
        if not rows.query.where:
            return rows.count()  # the whole table: its size, exactly
        # Any CAP + 1 rows do: no order to sort by, no column but the key.
        counted = rows.values("pk")[: self.CAP + 1].count()
        self._capped = counted > self.CAP
        return counted

    @property
    def capped(self) -> bool:
        """Whether the count stopped at the cap (there are more rows than it says)."""
        return self.count is not None and getattr(self, "_capped", False)


class PolicyPermissions:
    """The admin asks the access policy (fund.access) what a user may see and do, exactly
    as the services do: nobody gets a page, field or button the policy would refuse.

    `write_action` is the policy's action for adding, changing and deleting on this screen;
    None means the screen only shows. Reading needs Action.VIEW (every ministry role)."""

    write_action: Action | None = None

    def has_module_permission(self, request):
        return is_ministry(request.user)

    def has_view_permission(self, request, obj=None):
        return is_ministry(request.user) and can(request.user, Action.VIEW, obj)

    def may_write(self, request, obj=None) -> bool:
        action = self.write_action
        return action is not None and is_ministry(request.user) and can(request.user, action, obj)

    def has_add_permission(self, request, *args):
        return self.may_write(request)

    def has_change_permission(self, request, obj=None):
        return self.may_write(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.may_write(request, obj)


class PolicyInline(PolicyPermissions):
    """An inline is written by its parent's action."""

    def has_add_permission(self, request, obj=None):
        return self.may_write(request, obj)


def _people_named_not_linked():
    """A read-only field naming a user (who decided, who took a step) shows the name, not a
    link: Django links it to the user admin, which opens for superusers only, so every
    ministry role would be led to a refusal (issue 20). Superusers reach users by the list."""
    original = admin_helpers.AdminReadonlyField.get_admin_url

    def get_admin_url(self, remote_field, remote_obj):
        if remote_field.model is get_user_model():
            return str(remote_obj)
        return original(self, remote_field, remote_obj)

    admin_helpers.AdminReadonlyField.get_admin_url = get_admin_url


_people_named_not_linked()


class SpreadsheetCSV(base_formats.CSV):
    """CSV as spreadsheets save it: comma- or semicolon-separated (Dutch Excel uses ";"),
    with or without a byte-order mark."""

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        in_stream = in_stream.removeprefix("\ufeff")
        header = in_stream.split("\n", 1)[0]
        if header.count(";") > header.count(","):
            kwargs.setdefault("delimiter", ";")
        return super().create_dataset(in_stream, **kwargs)


class PolicyImportExport(ImportExportMixin):
    """Import (through the services) for who may write on the screen, export for who may
    read it; CSV and XLSX. An import is previewed (dry run) and, when confirmed, written in
    one transaction: one refused row and nothing is imported."""

    formats = [SpreadsheetCSV, base_formats.XLSX]
    export_form_class = LabelledExportForm

    def has_import_permission(self, request):
        return self.may_write(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_import_data_kwargs(self, **kwargs):
        # The confirmed import is all or nothing too: rows may have become refusals since the
        # preview (another user's change), and then nothing is written.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except FileNotFoundError:  # confirmed twice: the uploaded file is gone
            self.message_user(
                request, _("This import was already processed; upload the file again."),
                messages.WARNING,
            )  # fmt: skip
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_import")

    def process_result(self, result, request):
        if result.has_validation_errors() or result.has_errors():
            for row in result.invalid_rows:
                for field, errors in row.error_dict.items():
                    self.message_user(
                        request,
                        _("Row %(row)s, %(field)s: %(errors)s") % {
                            "row": row.number, "field": field, "errors": " ".join(errors)
                        },
                        messages.ERROR,
                    )  # fmt: skip
            for row_number, errors in result.row_errors():
                for error in errors:
                    self.message_user(
                        request, _("Row %(row)s: %(error)s") % {
                            "row": row_number, "error": error.error
                        },
                        messages.ERROR,
                    )  # fmt: skip
            self.message_user(request, _("Nothing was imported."), messages.ERROR)
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return super().process_result(result, request)


class PlainCheckbox:
    """The list's action checkbox written as HTML in one step, the same markup as Django's.

    Why: Django renders it through the form widget's templates, about half a millisecond a
    row — of a 100-row selection page, a third of its time (docs/performance.md)."""

    def action_checkbox(self, obj):
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            admin_helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )


class ServiceAdmin(PlainCheckbox, PolicyPermissions, admin.ModelAdmin):
    """A ModelAdmin whose save goes through a service.

    When the service refuses (FundRuleError), the whole save is rolled back and the same form
    is shown again with the error, naming its rule, on the field at fault — never a 500.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:  # FundRuleError and model validation alike
            request._service_error = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            with transaction.atomic():
                return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_user(request, describe(error), messages.ERROR)
            opts = self.model._meta
            return redirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form_class

        class ServiceErrorForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                show_service_error(self, error)
                return cleaned_data

        return ServiceErrorForm

    @staticmethod
    def adopt(obj, saved) -> None:
        """Make the admin's form instance the object the service saved (pk, defaults)."""
        obj.__dict__.update(
            {k: v for k, v in saved.__dict__.items() if not k.startswith("_prefetched")}
        )

    def run_service_action(self, request, queryset, service, **kwargs) -> None:
        """Apply a service to each selected object; refusals are reported, not raised."""
        done = 0
        for obj in queryset:
            try:
                with transaction.atomic():
                    service(actor=request.user, **{self.action_argument: obj}, **kwargs)
                done += 1
            except ValidationError as error:
                self.message_user(request, f"{obj}: {describe(error)}", messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d item updated.", "%(count)d items updated.", done)
                % {"count": done},
                messages.SUCCESS,
            )

    action_argument = "obj"

    # Deleting goes through a service too, when the admin has one (`delete_service`).
    delete_service = None

    def delete_model(self, request, obj):
        if self.delete_service is None:
            return super().delete_model(request, obj)
        type(self).delete_service(actor=request.user, **{self.action_argument: obj})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.delete_service is not None:
            # One at a time, through the service: Django's bulk delete can't show a refusal.
            actions.pop("delete_selected", None)
        return actions


def inline_data(formset):
    """The rows of an inline formset as (form, cleaned_data, deleted); marks it handled.

    Services write the rows; the admin's change message still reads what the formset "saved",
    so those lists are set (empty) on every formset that is handled this way.
    """
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data:
            continue
        rows.append((form, data, bool(data.get("DELETE"))))
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    return rows


def replaced_or_deleted(form, data, gone, key: str, delete) -> bool:
    """Delete (through the service `delete(old_key)`) an existing inline row that is deleted
    or whose key (year, criterion) changed; the service then writes the row under its new key.
    True when nothing is left to write."""
    instance = form.instance
    if instance.pk and (gone or form.initial.get(key) != data.get(key)):
        delete(form.initial.get(key, getattr(instance, key)))
    return gone


def describe(error: ValidationError) -> str:
    """One line for a message: '[R10] …' for a rule, the messages otherwise."""
    return str(error) if isinstance(error, FundRuleError) else "; ".join(error.messages)


def show_service_error(form, error: ValidationError) -> None:
    """Put a service's refusal on the field it names, or above the form."""
    if isinstance(error, FundRuleError):
        form.add_error(error.field if error.field in form.fields else None, str(error))
    elif hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


class ReadOnlyAdmin(PlainCheckbox, PolicyPermissions, admin.ModelAdmin):
    """Reference data and records only written through another screen."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(PolicyInline, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
