from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from grants.admin_base import ReadOnlyAdmin

from .models import Report


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    """Stored reports, to download as XLSX or CSV (every ministry role may read them)."""

    list_display = ["kind", "period", "fund_year", "status", "finished_at", "emailed_at", "files"]
    list_filter = ["kind", "status"]
    readonly_fields = ["failure_reason"]
    exclude = ["xlsx", "csv", "data"]

    def get_urls(self):
        download = path(
            "<int:report_id>/download/<str:kind>/",
            self.admin_site.admin_view(self.download),
            name="reports_report_download",
        )
        return [download, *super().get_urls()]

    @admin.display(description=_("files"))
    def files(self, obj):
        if obj.status != "done":
            return "—"
        return format_html(
            '<a href="{}">XLSX</a> · <a href="{}">CSV</a>',
            reverse("admin:reports_report_download", args=[obj.pk, "xlsx"]),
            reverse("admin:reports_report_download", args=[obj.pk, "csv"]),
        )

    def download(self, request, report_id, kind):
        report = get_object_or_404(Report, pk=report_id, status="done")
        if not self.has_view_permission(request, report) or kind not in ("xlsx", "csv"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if kind == "xlsx":
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            body = bytes(report.xlsx)
        else:
            content_type, body = "text/csv; charset=utf-8", report.csv
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="{report.kind}-{report.period}.{kind}"'
        )
        return response
