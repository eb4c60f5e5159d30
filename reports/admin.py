from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from fund.access import Action, can
from fund.admin import ReadOnlyAdmin, is_ministry
from grants.models import FundYear
from readlog import services as readlog
from readlog.models import Door, Kind

from .models import IatiExport, Report, ReportStatus


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
        if obj.status != ReportStatus.DONE:
            return "—"
        return format_html(
            '<a href="{}">XLSX</a> · <a href="{}">CSV</a>',
            reverse("admin:reports_report_download", args=[obj.pk, "xlsx"]),
            reverse("admin:reports_report_download", args=[obj.pk, "csv"]),
        )

    def download(self, request, report_id, kind):
        report = get_object_or_404(Report, pk=report_id, status=ReportStatus.DONE)
        if not self.has_view_permission(request, report) or kind not in ("xlsx", "csv"):
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
        # R11: the file is read (the posts it names are found in it by the read log too).
        readlog.note(request, Kind.REPORT_FILE, [report.pk], door=Door.FILE)
        return response


class ExportScopeFilter(admin.SimpleListFilter):
    """Which projects an export holds: every year's, or those with money in one year (the
    plain year filter offered only "-" when every export was of all years)."""

    title = _("projects")
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        years = (
            IatiExport.objects.exclude(year=None)
            .order_by("-year")
            .values_list("year", flat=True)
            .distinct()
        )
        return [
            ("all", _("all years")),
            *[(str(year), _("with money in %(year)s") % {"year": year}) for year in years],
        ]

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset.filter(year=None)
        if self.value() and self.value().isdigit():
            return queryset.filter(year=int(self.value()))
        return queryset


@admin.register(IatiExport)
class IatiExportAdmin(ReadOnlyAdmin):
    """The IATI publication files (R11), for the fund managers who decide what is published:
    the last exports with their counts per policy outcome, a download, and a button that
    makes a new one (on a worker, as the monthly schedule does)."""

    list_display = ["created_at", "scope", "status", "full", "reduced", "withheld", "excluded",
                    "smallest_anonymity_set", "file_size", "download_link"]  # fmt: skip
    list_filter = ["status", ExportScopeFilter]
    exclude = ["file"]
    readonly_fields = ["failure_reason"]
    change_list_template = "admin/reports/iatiexport/change_list.html"

    @admin.display(description=_("projects"), ordering="year")
    def scope(self, obj):
        if obj.year is None:
            return _("all years")
        return _("with money in %(year)s") % {"year": obj.year}

    def may_publish(self, request) -> bool:
        return is_ministry(request.user) and can(request.user, Action.PUBLISH)

    def has_view_permission(self, request, obj=None):
        return self.may_publish(request)

    def has_module_permission(self, request):
        return self.may_publish(request)

    def get_urls(self):
        return [
            path(
                "<int:export_id>/download/",
                self.admin_site.admin_view(self.download),
                name="reports_iatiexport_download",
            ),
            path(
                "new/",
                self.admin_site.admin_view(self.new_export),
                name="reports_iatiexport_new",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "fund_years": FundYear.objects.order_by("-year").values_list("year", flat=True),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("size"), ordering="size")
    def file_size(self, obj):
        return filesizeformat(obj.size) if obj.status == ReportStatus.DONE else "—"

    @admin.display(description=_("file"))
    def download_link(self, obj):
        if obj.status != ReportStatus.DONE or not obj.file:
            return "—"
        return format_html(
            '<a href="{}">XML</a>', reverse("admin:reports_iatiexport_download", args=[obj.pk])
        )

    def download(self, request, export_id):
        if not self.may_publish(request):
            raise PermissionDenied
        export = get_object_or_404(IatiExport, pk=export_id, status=ReportStatus.DONE)
        try:
            handle = export.file.open("rb")
        except (FileNotFoundError, ValueError) as error:
            raise Http404(_("The file of this export is no longer there.")) from error
        # R11: streamed, so not read by the read log's middleware: noted here.
        readlog.note(request, Kind.IATI_FILE, [export.pk], door=Door.FILE)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=export.file.name.rsplit("/", 1)[-1],
            content_type="application/xml",
        )

    def new_export(self, request):
        """POST: queue a new export (a worker writes it; it appears in this list)."""
        if request.method != "POST" or not self.may_publish(request):
            raise PermissionDenied
        from .tasks import export_iati

        year = request.POST.get("year") or None
        year = int(year) if year and year.isdigit() else None
        transaction.on_commit(lambda: export_iati.delay(year))
        self.message_user(
            request,
            _("A new IATI export is being made; it appears in this list when it is ready."),
            messages.SUCCESS,
        )
        return redirect("admin:reports_iatiexport_changelist")
