"""Annual reports: the list and the side-by-side page of plan and report (R10, R13)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from fund.access import Action, can
from fund.admin import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    describe,
    is_ministry,
)
from grants import selectors, services
from grants.cycles import ANNUAL_REPORT_CYCLE
from grants.models import (
    AnnualReport,
    FundYear,
    ReportTransition,
    ResultProgress,
)

from .common import TransitionCommentForm, reviewer_steps


class ReportOverdueFilter(admin.SimpleListFilter):
    """R10: reports not with the ministry by their fund year's report deadline."""

    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("submission", _("not submitted by the deadline"))]

    def queryset(self, request, queryset):
        if self.value() == "submission":
            return queryset.filter(
                status__in=ANNUAL_REPORT_CYCLE.editable,
                fund_year__report_deadline__lt=timezone.localdate(),
            )
        return queryset


class ResultProgressInline(ReadOnlyInline):
    model = ResultProgress
    fields = ["intended_result", "text"]
    readonly_fields = fields


class ReportTransitionInline(ReadOnlyInline):
    model = ReportTransition
    fields = ["at", "from_status", "to_status", "actor", "comment"]
    readonly_fields = fields


@admin.register(AnnualReport)
class AnnualReportAdmin(ReadOnlyAdmin):
    """Posts write their annual report through the API; reviewers read it beside the plan
    and return or accept it (R10)."""

    list_display = ["post", "fund_year", "status", "updated_at", "side_by_side_link"]
    list_filter = ["fund_year", "status", ReportOverdueFilter, "post__kind"]
    list_select_related = ["post", "fund_year"]
    search_fields = ["post__code", "post__name"]
    fields = ["post", "fund_year", "status", "summary", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [ResultProgressInline, ReportTransitionInline]
    actions = ["accept_reports", "return_reports"]
    action_argument = "report"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/side-by-side/",
                self.admin_site.admin_view(self.side_by_side_view),
                name="grants_annualreport_side_by_side",
            ),
            path(
                "results/",
                self.admin_site.admin_view(self.results_view),
                name="grants_annualreport_results",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("plan and report"))
    def side_by_side_link(self, obj):
        url = reverse("admin:grants_annualreport_side_by_side", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("side by side"))

    def has_review_permission(self, request):
        return is_ministry(request.user) and can(request.user, Action.REVIEW_ANNUAL_REPORT)

    @admin.action(description=_("Accept selected annual reports (R10)"), permissions=["review"])
    def accept_reports(self, request, queryset):
        self.run_service_action(request, queryset, services.annual_report_accept)

    @admin.action(
        description=_("Return selected annual reports for revision, with a comment (R10)"),
        permissions=["review"],
    )
    def return_reports(self, request, queryset):
        form = TransitionCommentForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self.run_service_action(
                request,
                queryset,
                services.annual_report_return,
                comment=form.cleaned_data["comment"],
            )
            return None
        return TemplateResponse(
            request,
            "admin/grants/annualplan/transition_comment.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Return for revision"),
                "explanation": _(
                    "The post revises the annual report and submits it again. Say what to change."
                ),
                "plans": queryset.select_related("post", "fund_year"),
                "form": form,
                "action": "return_reports",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def side_by_side_view(self, request, object_id):
        """Plan and report of a post's year side by side (R10, R13): per chosen priority the
        money in the plan against what was planned, committed and disbursed, and per aimed-at
        intended result the post's progress beside the values its projects reported; with the
        decisions the report's status allows."""
        report = self.get_object(request, object_id)
        if report is None:
            raise Http404
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        may_decide = self.has_review_permission(request)
        steps = reviewer_steps(ANNUAL_REPORT_CYCLE, report.status) if may_decide else []
        form = TransitionCommentForm(request.POST or None)
        form.fields["comment"].required = False
        if request.method == "POST":
            if not self.has_review_permission(request):
                raise PermissionDenied
            step = request.POST.get("step")
            if step not in steps:  # e.g. another reviewer decided meanwhile
                self.message_user(
                    request,
                    _("This step is not possible for an annual report that is %(status)s.")
                    % {"status": report.get_status_display().lower()},
                    messages.WARNING,
                )
                return redirect(request.path)
            if form.is_valid():
                try:
                    with transaction.atomic():
                        services.annual_report_transition(
                            actor=request.user,
                            report=report,
                            action=step,
                            comment=form.cleaned_data["comment"],
                        )
                except ValidationError as error:
                    self.message_user(request, describe(error), messages.ERROR)
                else:
                    status = AnnualReport.objects.get(pk=report.pk).get_status_display().lower()
                    self.message_user(
                        request,
                        _("The annual report is %(status)s.") % {"status": status},
                        messages.SUCCESS,
                    )
                    return redirect(request.path)
        figures = selectors.annual_report_figures(
            post_id=report.post_id, fund_year=report.fund_year
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Plan and report of %(post)s, %(year)s")
            % {"post": report.post.code, "year": report.fund_year.year},
            "report": report,
            "figures": figures,
            "transitions": report.transitions.select_related("actor"),
            "steps": steps,
            "form": form,
        }
        return TemplateResponse(request, "admin/grants/annualreport/side_by_side.html", context)

    def results_view(self, request):
        """Per priority and intended result, across all posts, for a year (R13)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        years = list(FundYear.objects.filter(year__gte=2026).order_by("-year"))
        asked = request.GET.get("year", "")
        fund_year = next((y for y in years if str(y.year) == asked), None)
        if fund_year is None:  # the latest year with results, never an empty future one
            fund_year = selectors.results_year_at_hand(years, timezone.localdate())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Results per intended result"),
            "years": years,
            "fund_year": fund_year,
            "overview": selectors.results_overview(fund_year) if fund_year else [],
        }
        return TemplateResponse(request, "admin/grants/annualreport/results.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "results_url": reverse(
            "admin:grants_annualreport_results"
        )}  # fmt: skip
        return super().changelist_view(request, extra_context)
