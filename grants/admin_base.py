"""Admin plumbing shared by the apps: writes go through services; a rule breach is a form error."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction

from .rules import FundRuleError


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose save goes through a service.

    When the service refuses (FundRuleError), the whole save is rolled back and the same form
    is shown again with the error, naming its rule, on the field at fault — never a 500.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except FundRuleError as error:
            request._fund_rule_error = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_fund_rule_error", None)
        if error is None:
            return form_class

        class RuleErrorForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                target = error.field if error.field in self.fields else None
                self.add_error(target, str(error))
                return cleaned_data

        return RuleErrorForm

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
            except FundRuleError as error:
                self.message_user(request, f"{obj}: {error}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} ✓", messages.SUCCESS)

    action_argument = "obj"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Reference data and records only written through another screen."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
