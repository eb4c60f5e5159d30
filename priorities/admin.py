from django.contrib import admin

from fund.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import IntendedResult, Priority


class IntendedResultInline(ReadOnlyInline):
    model = IntendedResult
    fields = ["code", "text_nl", "text_en"]


@admin.register(Priority)
class PriorityAdmin(ReadOnlyAdmin):
    """R3: the closed 5+1 list, loaded by migration; nobody adds or removes one."""

    list_display = ["position", "code", "name_nl", "name_en", "is_plus_one", "theme"]
    list_display_links = ["code"]
    list_filter = ["theme", "is_plus_one"]
    search_fields = ["code", "name_nl", "name_en"]
    inlines = [IntendedResultInline]


@admin.register(IntendedResult)
class IntendedResultAdmin(ReadOnlyAdmin):
    list_display = ["code", "text_nl", "priority"]
    list_filter = [("priority", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["priority"]
    search_fields = ["code", "text_nl", "text_en", "priority__name_nl"]
