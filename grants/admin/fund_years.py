"""Fund years, allocations and the money overview (R1, R5, R7)."""

from __future__ import annotations

import io

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage
from django.http import HttpResponse
from django.urls import path
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from countries.resources import AllocationResource
from fund.access import Action
from fund.admin import (
    PolicyImportExport,
    ReadOnlyAdmin,
)
from fund.checks import MAX_BILATERAL_POSTS, MAX_MULTILATERAL_POSTS, ZERO, eur
from grants import selectors, services
from grants.models import (
    Allocation,
    FundYear,
    MoneyOverview,
)

from .common import ServiceHistoryAdmin


@admin.register(FundYear)
class FundYearAdmin(ServiceHistoryAdmin):
    write_action = Action.SAVE_FUND_YEAR
    list_display = [
        "year",
        "envelope_eur",
        "allocated_eur",
        "bilateral",
        "multilateral",
        "plan_submission_deadline",
        "review_deadline",
        "report_deadline",
    ]
    search_fields = ["year"]
    readonly_fields = ["fragmentation_report"]

    def get_readonly_fields(self, request, obj=None):
        # The year is the key of budget lines and of R1/R7: fixed once the fund year exists.
        return ["year", *self.readonly_fields] if obj else self.readonly_fields

    def get_queryset(self, request):
        return selectors.fund_years_with_totals(super().get_queryset(request))

    @admin.display(description=_("envelope"), ordering="envelope")
    def envelope_eur(self, obj):
        return eur(obj.envelope)

    @admin.display(description=_("allocated"), ordering="allocated")
    def allocated_eur(self, obj):
        return eur(obj.allocated)

    @admin.display(description=_("bilateral posts (R1)"))
    def bilateral(self, obj):
        return (
            f"{obj.bilateral_count} / {MAX_BILATERAL_POSTS}"
            if obj.is_reformed
            else (obj.bilateral_count)
        )

    @admin.display(description=_("multilateral posts (R1)"))
    def multilateral(self, obj):
        return (
            f"{obj.multilateral_count} / {MAX_MULTILATERAL_POSTS}"
            if obj.is_reformed
            else (obj.multilateral_count)
        )

    @admin.display(description=_("fragmentation (R9)"))
    def fragmentation_report(self, obj):
        if not obj or not obj.pk:
            return "—"
        report = selectors.fragmentation(obj)
        return _(
            "%(small)s of %(total)s projects with money in %(year)s are below %(threshold)s "
            "(%(share)s%%)."
        ) % {
            "small": report["below_threshold"],
            "total": report["projects"],
            "year": obj.year,
            "threshold": eur(report["threshold"]),
            "share": report["share_below_threshold_pct"],
        }

    def save_model(self, request, obj, form, change):
        services.fund_year_save(actor=request.user, fund_year=obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Allocation)
class AllocationAdmin(PolicyImportExport, ServiceHistoryAdmin):
    write_action = Action.ALLOCATE
    resource_classes = [AllocationResource]
    list_display = ["post", "fund_year", "amount_eur"]
    list_filter = ["fund_year", "post__kind"]
    list_select_related = ["post", "fund_year"]
    search_fields = ["post__code", "post__name"]
    autocomplete_fields = ["post"]

    def get_readonly_fields(self, request, obj=None):
        return ["post", "fund_year"] if obj else []

    @admin.display(description=_("amount"), ordering="amount")
    def amount_eur(self, obj):
        return eur(obj.amount)

    def save_model(self, request, obj, form, change):
        saved = services.allocation_set(
            actor=request.user,
            post=obj.post,
            fund_year=obj.fund_year,
            amount=obj.amount,
            note=obj.note,
        )
        self.adopt(obj, saved)

    def has_delete_permission(self, request, obj=None):
        return False  # set the amount to zero instead: the history stays


class MoneyOverviewChangeList(ChangeList):
    """The money sums come from a few grouped queries (selectors.money_overview), not SQL
    columns. Sorted by a sum, all the filtered rows (one per post and year: hundreds, not
    projects) are summed and sorted here; otherwise only the page's rows are summed."""

    MONEY = {"in_plan", "planned", "committed", "disbursed", "remaining"}

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        self.money_ordering = [key for key in ordering if key.lstrip("-") in self.MONEY]
        return [key for key in ordering if key.lstrip("-") not in self.MONEY]

    def get_results(self, request):
        # The totals row sums every filtered row, not only the page's (a few hundred rows:
        # one per post and year).
        rows = selectors.money_overview(self.queryset)
        self.totals = money_totals(rows)
        if not getattr(self, "money_ordering", None):
            super().get_results(request)
            self.result_list = selectors.money_overview(self.result_list)
            return
        for key in reversed(self.money_ordering):
            name = key.lstrip("-")
            rows.sort(key=lambda row, name=name: getattr(row, name), reverse=key[0] == "-")
        paginator = self.model_admin.get_paginator(request, rows, self.list_per_page)
        self.result_count = self.full_result_count = len(rows)
        self.show_full_result_count = self.model_admin.show_full_result_count
        self.show_admin_actions = True
        self.can_show_all = self.result_count <= self.list_max_show_all
        self.multi_page = self.result_count > self.list_per_page
        show_all = self.show_all and self.can_show_all
        try:
            self.result_list = rows if show_all else paginator.page(self.page_num).object_list
        except InvalidPage as error:
            raise IncorrectLookupParameters from error
        self.paginator = paginator


MONEY_COLUMNS = {
    "allocated": _("allocated"),
    "in_plan": _("in annual plan"),
    "planned": _("planned projects"),
    "committed": _("committed"),
    "disbursed": _("disbursed"),
    "remaining": _("remaining"),
}


def money_totals(rows) -> dict:
    """The sum of each money column over the rows (R5)."""
    totals = dict.fromkeys(MONEY_COLUMNS, ZERO)
    for row in rows:
        totals["allocated"] += row.amount
        for name in list(MONEY_COLUMNS)[1:]:
            totals[name] += getattr(row, name)
    return totals


def money_overview_xlsx(rows) -> bytes:
    """The overview's rows and their totals as a workbook: Dutch (or English) headers,
    euros as numbers in a euro format, the totals row in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = str(_("Money overview"))[:31]
    sheet.append(
        [str(_("post")), str(_("fund year")), *(str(label) for label in MONEY_COLUMNS.values())]
    )
    for row in rows:
        sheet.append(
            [f"{row.post.code} {row.post.name}", row.fund_year.year, row.amount,
             *(getattr(row, name) for name in list(MONEY_COLUMNS)[1:])]
        )  # fmt: skip
    totals = money_totals(rows)
    sheet.append([str(_("Total")), None, *totals.values()])
    for cell in (*sheet[1], *sheet[sheet.max_row]):
        cell.font = Font(bold=True)
    for cells in sheet.iter_rows(min_row=2, min_col=3):
        for cell in cells:
            cell.number_format = '"€" #,##0.00'
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = 40
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


@admin.register(MoneyOverview)
class MoneyOverviewAdmin(ReadOnlyAdmin):
    """R5 at a glance: allocated / in plan / planned / committed / disbursed / remaining."""

    list_display = [
        "post",
        "fund_year",
        "allocated",
        "in_plan_eur",
        "planned_eur",
        "committed_eur",
        "disbursed_eur",
        "remaining_eur",
    ]
    list_filter = ["fund_year", "post__kind"]
    search_fields = ["post__code", "post__name"]
    list_per_page = 50
    list_display_links = None  # the sums live on this list; the allocation has its own page

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("post", "fund_year")

    def get_changelist(self, request, **kwargs):
        return MoneyOverviewChangeList

    def get_urls(self):
        export = path(
            "export/xlsx/",
            self.admin_site.admin_view(self.export_view),
            name="grants_moneyoverview_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request):
        """The filtered overview with its totals as XLSX (the list's filters and search)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = selectors.money_overview(changelist.queryset)
        response = HttpResponse(
            money_overview_xlsx(rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = slugify(str(_("Money overview")))
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response

    @admin.display(description=_("allocated"), ordering="amount")
    def allocated(self, obj):
        return eur(obj.amount)

    @admin.display(description=_("in annual plan"), ordering="in_plan")
    def in_plan_eur(self, obj):
        return eur(obj.in_plan)

    @admin.display(description=_("planned projects"), ordering="planned")
    def planned_eur(self, obj):
        return eur(obj.planned)

    @admin.display(description=_("committed"), ordering="committed")
    def committed_eur(self, obj):
        return eur(obj.committed)

    @admin.display(description=_("disbursed"), ordering="disbursed")
    def disbursed_eur(self, obj):
        return eur(obj.disbursed)

    @admin.display(description=_("remaining"), ordering="remaining")
    def remaining_eur(self, obj):
        return eur(obj.remaining)
