"""Partners: who they are only to those who may know (R11), and the ministry's decisions on
publishing them.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fund.access import Action, can
from fund.admin import (
    ReadOnlyInline,
    describe,
)
from grants import services
from grants.models import (
    Partner,
    PartnerDecision,
    Sensitivity,
)

from .common import ServiceHistoryAdmin


def may_identify(request, partner=None) -> bool:
    """R11: whether the user may see who a highly sensitive partner is (the policy decides)."""
    return can(request.user, Action.IDENTIFY_PARTNER, partner)


def partner_label(request, partner) -> str:
    """A partner as this user may see it: a highly sensitive one by type and country only,
    unless the policy lets the user identify it (R11)."""
    if partner.sensitivity != Sensitivity.HIGH or may_identify(request, partner):
        return partner.name
    return _("%(type)s in %(country)s (highly sensitive)") % {
        "type": partner.get_partner_type_display(),
        "country": partner.country_id,
    }


def identity_column(request, *, partner_of=lambda obj: obj, description=None):
    """A list column (bound to this request) naming the partner as partner_label does."""

    def identity(obj):
        return partner_label(request, partner_of(obj))

    identity.short_description = description or _("partner")
    return identity


class PartnerDecisionInline(ReadOnlyInline):
    """R11: who asked, granted, refused or changed the sensitivity, when and why."""

    model = PartnerDecision
    fields = ["step", "sensitivity_from", "sensitivity_to", "actor", "at", "comment"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")  # one query, any length


@admin.register(Partner)
class PartnerAdmin(ServiceHistoryAdmin):
    write_action = Action.EDIT_PARTNER
    list_display = [
        "name",
        "post",
        "partner_type",
        "country",
        "sensitivity",
        "clearance",
    ]
    list_filter = ["clearance", "partner_type", "sensitivity", "post__kind"]
    list_select_related = ["post", "country"]
    search_fields = ["name", "post__code"]
    list_per_page = 50  # the rows' rendering is most of the page (docs/performance.md)
    autocomplete_fields = ["post", "country"]
    readonly_fields = ["public_id", "clearance"]
    inlines = [PartnerDecisionInline]
    actions = [
        "grant_clearance",
        "refuse_clearance",
        "sensitivity_high",
        "sensitivity_sensitive",
        "sensitivity_normal",
    ]

    def has_publish_permission(self, request):
        # R11: what is published, and how sensitive a partner is, the fund managers decide.
        return can(request.user, Action.PUBLISH)

    def _decide(self, request, queryset, decide, **arguments):
        done = 0
        for partner in queryset:
            try:
                decide(actor=request.user, partner=partner, **arguments)
                done += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{partner_label(request, partner)}: {describe(error)}", messages.ERROR
                )
        if done:
            self.message_user(
                request,
                ngettext("%(count)d partner updated.", "%(count)d partners updated.", done)
                % {"count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Clear for publication (R11)"), permissions=["publish"])
    def grant_clearance(self, request, queryset):
        self._decide(request, queryset, services.partner_decide_clearance, grant=True)

    @admin.action(description=_("Refuse or withdraw clearance (R11)"), permissions=["publish"])
    def refuse_clearance(self, request, queryset):
        self._decide(request, queryset, services.partner_decide_clearance, grant=False)

    @admin.action(description=_("Sensitivity: highly sensitive"), permissions=["publish"])
    def sensitivity_high(self, request, queryset):
        self._decide(
            request, queryset, services.partner_set_sensitivity, sensitivity=Sensitivity.HIGH
        )

    @admin.action(description=_("Sensitivity: sensitive"), permissions=["publish"])
    def sensitivity_sensitive(self, request, queryset):
        self._decide(
            request, queryset, services.partner_set_sensitivity, sensitivity=Sensitivity.SENSITIVE
        )

    @admin.action(description=_("Sensitivity: normal"), permissions=["publish"])
    def sensitivity_normal(self, request, queryset):
        self._decide(
            request, queryset, services.partner_set_sensitivity, sensitivity=Sensitivity.NORMAL
        )

    delete_service = services.partner_delete
    action_argument = "partner"

    def get_list_display(self, request):
        if may_identify(request):
            return self.list_display
        return [self._identity_linked_where_it_opens(request), *self.list_display[1:]]

    def get_list_display_links(self, request, list_display):
        if may_identify(request):
            return super().get_list_display_links(request, list_display)
        return None  # each row links itself, where its page opens for this user

    def _identity_linked_where_it_opens(self, request):
        """The name as partner_label shows it, a link only where the partner's page opens
        for this user: a masked highly sensitive partner's would end in a refusal (R11)."""

        def identity(obj):
            label = partner_label(request, obj)
            if not self.has_view_permission(request, obj):
                return label
            url = add_preserved_filters(
                {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts},
                reverse("admin:grants_partner_change", args=[obj.pk]),
            )
            return format_html('<a href="{}">{}</a>', url, label)

        identity.short_description = _("name")
        return identity

    def get_search_fields(self, request):
        # Searching by name would tell whether a sensitive partner exists (R11).
        return self.search_fields if may_identify(request) else ["post__code"]

    def get_search_results(self, request, queryset, search_term):
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        if not may_identify(request) and request.path.endswith("/autocomplete/"):
            # Autocomplete answers with names: highly sensitive partners are left out (R11).
            queryset = queryset.exclude(sensitivity=Sensitivity.HIGH)
        return queryset, duplicates

    def lookup_allowed(self, lookup, value, request=None):
        # A filter on the name would reveal it letter by letter (R11).
        if lookup.startswith("name") and request is not None and not may_identify(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Judge the partner as it is now: an old version may predate its "highly sensitive".
        partner = self.get_object(request, object_id)
        if partner is not None and not self.has_view_permission(request, partner):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_view_permission(self, request, obj=None):
        hidden = obj is not None and obj.sensitivity == Sensitivity.HIGH
        if hidden and not may_identify(request, obj):
            return False
        return super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # A partner with projects stays: its projects and payments refer to it.
        has_projects = obj is not None and obj.projects.exists()
        return not has_projects and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        saved = services.partner_save(
            actor=request.user,
            partner=obj if change else None,
            post=obj.post,
            name=obj.name,
            partner_type=obj.partner_type,
            country=obj.country,
            sensitivity=obj.sensitivity,
            cleared_for_publication=obj.cleared_for_publication,
        )
        self.adopt(obj, saved)
