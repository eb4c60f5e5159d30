"""The outbox in the admin: what was sent, what waits and why, and "opnieuw versturen"."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fund.access import Action, can
from fund.admin import ReadOnlyAdmin

from . import services
from .models import Message, MessageStatus


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "to", "subject", "status", "attempts", "next_attempt", "sent_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["to", "subject", "cause", "message_id"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    list_per_page = 50
    show_full_result_count = False
    fields = [
        "status", "to", "language", "subject", "body", "attachment_name", "cause", "message_id",
        "attempts", "next_attempt_at", "lease_until", "last_error", "created_at", "queued_at",
        "sent_at",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        # The list never loads the texts and attachments it does not show.
        return super().get_queryset(request).defer("body", "html", "attachment")

    @admin.display(description=_("next attempt"), ordering="next_attempt_at")
    def next_attempt(self, obj):
        return obj.next_attempt_at if obj.status == MessageStatus.QUEUED else "—"

    @admin.action(description=_("Send again"), permissions=["resend"])
    def resend(self, request, queryset):
        count = services.resend(queryset, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d e-mail queued to be sent again.",
                "%(count)d e-mails queued to be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def has_resend_permission(self, request):
        return self.has_view_permission(request) and can(request.user, Action.RESEND_MAIL)
