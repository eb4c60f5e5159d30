"""Ministry screens. Every save calls a service in grants.services; nothing writes around it."""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import InvalidPage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from countries.models import Post
from countries.resources import AllocationResource
from fund.access import Action, can
from fund.admin import (
    PolicyImportExport,
    PolicyInline,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    describe,
    inline_data,
    is_ministry,
    replaced_or_deleted,
)
from fund.checks import MAX_BILATERAL_POSTS, MAX_MULTILATERAL_POSTS, eur

from . import selectors, services
from .cycles import ANNUAL_REPORT_CYCLE, PLAN_CYCLE, WITHDRAWABLE_PLAN_STATUSES
from .models import (
    Allocation,
    AnnualPlan,
    AnnualReport,
    AnnualReportStatus,
    BudgetLine,
    Disbursement,
    FundYear,
    Indicator,
    IndicatorValue,
    MoneyOverview,
    Partner,
    PartnerDecision,
    PlanPriority,
    PlanStatus,
    PlanTransition,
    Project,
    ReportTransition,
    ResultNarrative,
    Sensitivity,
)


class TransitionCommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("Recorded with the transition: who, when and why (R10)."),
    )


def reviewer_steps(cycle, status: str) -> list[str]:
    """The ministry's decisions a document in `status` allows (R10), the one that needs no
    explanation (approve, accept) first."""
    decisions = [
        name
        for name in cycle.steps_from(status)
        if cycle.steps[name].action in (Action.REVIEW_PLAN, Action.REVIEW_ANNUAL_REPORT)
    ]
    return sorted(decisions, key=lambda name: cycle.steps[name].needs_comment)


class ServiceHistoryAdmin(ServiceAdmin, SimpleHistoryAdmin):
    """Service-backed admin with the audit history (who changed what) one click away.

    The history is for reading: a "revert" would save an old version around the services
    (and their rules), so it is switched off (SIMPLE_HISTORY_REVERT_DISABLED) and refused.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


# --- Fund years and money ----------------------------------------------------------------------


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
        if not getattr(self, "money_ordering", None):
            super().get_results(request)
            self.result_list = selectors.money_overview(self.result_list)
            return
        rows = selectors.money_overview(self.queryset)
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


# --- Annual plans ------------------------------------------------------------------------------


class PlanPriorityInline(PolicyInline, admin.TabularInline):
    write_action = Action.EDIT_PLAN
    model = PlanPriority
    fields = ["priority", "amount"]
    extra = 0
    max_num = 2  # R2: the form offers two; the service refuses a third however it arrives
    verbose_name_plural = _("chosen priorities (at most two, R2)")


class PlanTransitionInline(ReadOnlyInline):
    model = PlanTransition
    fields = ["at", "from_status", "to_status", "version", "actor", "comment"]
    readonly_fields = fields


class OverdueFilter(admin.SimpleListFilter):
    """R10: plans past their fund year's deadlines."""

    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [
            ("submission", _("not submitted by the deadline")),
            ("review", _("not reviewed by the deadline")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "submission":
            return queryset.filter(
                status__in=PLAN_CYCLE.editable,
                fund_year__plan_submission_deadline__lt=today,
            )
        if self.value() == "review":
            return queryset.filter(
                status=PlanStatus.SUBMITTED, fund_year__review_deadline__lt=today
            )
        return queryset


class AnnualReportStatusFilter(admin.SimpleListFilter):
    """The review queue (R10): plans whose post's annual report on the year is in a status,
    e.g. submitted and waiting for a reviewer."""

    title = _("annual report")
    parameter_name = "annual_report"

    def lookups(self, request, model_admin):
        return [("none", _("none yet")), *AnnualReportStatus.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        reports = AnnualReport.objects.filter(
            post=OuterRef("post"), fund_year=OuterRef("fund_year")
        )
        if value == "none":
            return queryset.exclude(Exists(reports))
        if value in AnnualReportStatus.values:
            return queryset.filter(Exists(reports.filter(status=value)))
        return queryset


@admin.register(AnnualPlan)
class AnnualPlanAdmin(ServiceHistoryAdmin):
    write_action = Action.EDIT_PLAN
    list_display = [
        "post",
        "fund_year",
        "status",
        "version",
        "priorities",
        "updated_at",
        "review_link",
        "annual_report",
    ]
    list_filter = [
        "fund_year",
        "status",
        AnnualReportStatusFilter,
        OverdueFilter,
        ("plan_priorities__priority", admin.RelatedOnlyFieldListFilter),
        "post__kind",
    ]
    list_select_related = ["post", "fund_year"]
    search_fields = ["post__code", "post__name"]
    autocomplete_fields = ["post"]
    readonly_fields = ["public_id", "status", "version"]
    inlines = [PlanPriorityInline, PlanTransitionInline]
    actions = ["submit_plans", "approve_plans", "return_plans", "amend_plans"]
    action_argument = "plan"

    def get_queryset(self, request):
        reports = AnnualReport.objects.filter(
            post=OuterRef("post"), fund_year=OuterRef("fund_year")
        )
        return (
            super()
            .get_queryset(request)
            .prefetch_related("plan_priorities__priority")
            .annotate(
                report_pk=Subquery(reports.values("pk")[:1]),
                report_status=Subquery(reports.values("status")[:1]),
            )
        )

    @admin.display(description=_("annual report"))
    def annual_report(self, obj):
        """The post's annual report on the year, beside the plan (R10, R13)."""
        if not getattr(obj, "report_pk", None):
            return "—"
        url = reverse("admin:grants_annualreport_side_by_side", args=[obj.report_pk])
        return format_html('<a href="{}">{}</a>', url, AnnualReportStatus(obj.report_status).label)

    def get_readonly_fields(self, request, obj=None):
        fixed = ["post", "fund_year"] if obj else []
        return [*fixed, *self.readonly_fields]

    @admin.display(description=_("priorities"))
    def priorities(self, obj):
        return "; ".join(pp.priority.name for pp in obj.plan_priorities.all()) or "—"

    def has_change_permission(self, request, obj=None):
        # R7, R10: a submitted, approved or pre-2026 plan is frozen, so it is shown read-only
        # (no inputs, no Save) instead of being refused only when saved.
        if obj is not None and services.plan_edit_refusal(obj) is not None:
            return False
        return super().has_change_permission(request, obj)

    def get_urls(self):
        review = path(
            "<path:object_id>/review/",
            self.admin_site.admin_view(self.review_view),
            name="grants_annualplan_review",
        )
        return [review, *super().get_urls()]

    @admin.display(description=_("review"))
    def review_link(self, obj):
        url = reverse("admin:grants_annualplan_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("review"))

    def review_view(self, request, object_id):
        """The review page (R10): the plan, its projects and money per priority against the
        allocation, warnings, and the steps its status allows, each with its comment."""
        plan = self.get_object(request, object_id)
        if plan is None:
            raise Http404
        if not self.has_view_permission(request, plan):
            raise PermissionDenied
        reformed = plan.fund_year.is_reformed  # R7: history has no decisions left
        may_decide = reformed and self.has_review_permission(request)
        steps = reviewer_steps(PLAN_CYCLE, plan.status) if may_decide else []
        form = TransitionCommentForm(request.POST or None)
        form.fields["comment"].required = False
        if request.method == "POST":
            step = request.POST.get("step")
            if not self.has_review_permission(request):
                raise PermissionDenied
            if step not in steps:  # e.g. another reviewer decided meanwhile
                self.message_user(
                    request,
                    _("This step is not possible for a plan that is %(status)s.")
                    % {"status": plan.get_status_display().lower()},
                    messages.WARNING,
                )
                return redirect(request.path)
            if form.is_valid():
                try:
                    with transaction.atomic():
                        services.plan_transition(
                            actor=request.user,
                            plan=plan,
                            action=step,
                            comment=form.cleaned_data["comment"],
                        )
                except ValidationError as error:
                    self.message_user(request, describe(error), messages.ERROR)
                else:
                    self.message_user(request, _("The plan is %(status)s.") % {
                        "status": AnnualPlan.objects.get(pk=plan.pk).get_status_display().lower()
                    }, messages.SUCCESS)  # fmt: skip
                    return redirect(request.path)
        review = selectors.plan_review(plan)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Review of %(plan)s") % {"plan": plan},
            "plan": plan,
            "review": review,
            "project_rows": [
                (project, partner_label(request, project.partner)) for project in review["projects"]
            ],
            "steps": list(steps),
            "form": form,
            "frozen": services.plan_edit_refusal(plan),
        }
        return TemplateResponse(request, "admin/grants/annualplan/review.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            plan = self.get_object(request, object_id)
            refusal = plan and services.plan_edit_refusal(plan)
            if refusal:
                self.message_user(request, str(refusal), messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            saved = services.plan_create(
                actor=request.user, post=obj.post, fund_year=obj.fund_year, narrative=obj.narrative
            )
            self.adopt(obj, saved)
        elif "narrative" in form.changed_data:
            services.plan_update(actor=request.user, plan=obj, narrative=obj.narrative)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            changed = formset.has_changed()
            rows = inline_data(formset)  # every formset: the change message reads them all
            if formset.model is PlanPriority and changed:
                items = [(data["priority"], data["amount"]) for _i, data, gone in rows if not gone]
                services.plan_priorities_set(actor=request.user, plan=form.instance, items=items)

    def has_submit_permission(self, request):
        return is_ministry(request.user) and can(request.user, Action.SUBMIT_PLAN)

    def has_review_permission(self, request):
        return is_ministry(request.user) and can(request.user, Action.REVIEW_PLAN)

    @admin.action(description=_("Submit selected plans for review (R10)"), permissions=["submit"])
    def submit_plans(self, request, queryset):
        self.run_service_action(request, queryset, services.plan_submit)

    @admin.action(description=_("Approve selected plans (R10)"), permissions=["review"])
    def approve_plans(self, request, queryset):
        self.run_service_action(request, queryset, services.plan_approve)

    @admin.action(
        description=_("Return selected plans for revision, with a comment (R10)"),
        permissions=["review"],
    )
    def return_plans(self, request, queryset):
        return self.transition_with_comment(
            request,
            queryset,
            action="return",
            title=_("Return for revision"),
            explanation=_("The post revises the plan and submits it again. Say what to change."),
        )

    @admin.action(
        description=_("Open an amendment of selected approved plans (R10)"),
        permissions=["review"],
    )
    def amend_plans(self, request, queryset):
        return self.transition_with_comment(
            request,
            queryset,
            action="amend",
            title=_("Open an amendment"),
            explanation=_(
                "The approved plan becomes editable as a new version and is reviewed again. "
                "Say why it is amended."
            ),
        )

    def transition_with_comment(self, request, queryset, *, action, title, explanation):
        """An action that asks for the 'why' (R10) on an intermediate page, then applies."""
        form = TransitionCommentForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self.run_service_action(
                request,
                queryset,
                services.plan_transition,
                action=action,
                comment=form.cleaned_data["comment"],
            )
            return None  # back to the list, with the messages
        return TemplateResponse(
            request,
            "admin/grants/annualplan/transition_comment.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "explanation": explanation,
                "plans": queryset.select_related("post", "fund_year"),
                "form": form,
                "action": action + "_plans",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def has_delete_permission(self, request, obj=None):
        # Only a plan that was never approved can be withdrawn, one at a time (R10).
        return (
            obj is not None
            and obj.status in WITHDRAWABLE_PLAN_STATUSES
            and super().has_delete_permission(request, obj)
        )

    def delete_model(self, request, obj):
        services.plan_withdraw(actor=request.user, plan=obj)

    def get_deleted_objects(self, objs, request):
        # The chosen priorities and transitions go with the plan; plan_withdraw decides, so
        # their read-only admins need not grant delete permission.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected


# --- Annual reports (R10, R13) ------------------------------------------------------------------


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


class ResultNarrativeInline(ReadOnlyInline):
    model = ResultNarrative
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
    inlines = [ResultNarrativeInline, ReportTransitionInline]
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
        fund_year = next((y for y in years if str(y.year) == asked), years[0] if years else None)
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


@admin.register(PlanPriority)
class PlanPriorityAdmin(ReadOnlyAdmin):
    list_display = ["plan", "slot", "priority", "amount"]
    list_filter = ["plan__fund_year", "priority"]
    list_select_related = ["plan__post", "plan__fund_year", "priority"]
    search_fields = ["plan__post__code"]


@admin.register(PlanTransition)
class PlanTransitionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "from_status", "to_status", "version", "actor", "at"]
    list_filter = ["to_status", "plan__fund_year"]
    list_select_related = ["plan__post", "plan__fund_year", "actor"]
    search_fields = ["plan__post__code", "comment"]


# --- Partners and projects ---------------------------------------------------------------------


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
        return [identity_column(request, description=_("name")), *self.list_display[1:]]

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


class BudgetLineInline(PolicyInline, admin.TabularInline):
    write_action = Action.EDIT_PROJECT
    model = BudgetLine
    fields = ["year", "amount"]
    extra = 0
    verbose_name_plural = _("budget per calendar year (R9)")


class DisbursementInline(ReadOnlyInline):
    model = Disbursement
    fields = ["date", "amount", "reference"]
    readonly_fields = fields


PROJECT_FORM_FIELDS = [
    "partner",
    "priority",
    "title",
    "description",
    "start_date",
    "end_date",
    "status",
]


@admin.register(Project)
class ProjectAdmin(ServiceHistoryAdmin):
    write_action = Action.EDIT_PROJECT
    list_display = [
        "title",
        "post_code",
        "partner",
        "priority_short",
        "status",
        "start_date",
        "budget_eur",
        "disbursed_eur",
    ]
    list_filter = ["status", "priority", "post__kind", "start_date"]
    list_select_related = ["post", "partner", "priority"]
    search_fields = ["title", "post__code", "partner__name"]
    autocomplete_fields = ["post", "partner"]
    filter_horizontal = ["intended_results"]
    readonly_fields = ["public_id"]
    inlines = [BudgetLineInline, DisbursementInline]
    date_hierarchy = "start_date"

    def get_queryset(self, request):
        return selectors.projects_with_totals(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        fixed = ["post", "public_id"] if obj else ["public_id"]
        if obj is not None and not may_identify(request, obj.partner):
            return [*fixed, self._masked_partner(request)]
        return fixed

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None or may_identify(request, obj.partner):
            return fields
        masked = self._masked_partner(request)
        return [masked if field in ("partner", masked) else field for field in fields]

    def _masked_partner(self, request):
        """One column object per request (fields and readonly_fields must name the same)."""
        column = getattr(request, "_masked_partner_column", None)
        if column is None:
            column = identity_column(request, partner_of=lambda project: project.partner)
            request._masked_partner_column = column
        return column

    def get_list_display(self, request):
        if may_identify(request):
            return self.list_display
        column = identity_column(request, partner_of=lambda project: project.partner)
        return [column if name == "partner" else name for name in self.list_display]

    def get_search_fields(self, request):
        if may_identify(request):
            return self.search_fields
        return [name for name in self.search_fields if not name.startswith("partner__")]

    def lookup_allowed(self, lookup, value, request=None):
        hidden = lookup.startswith("partner__name") and request is not None
        if hidden and not may_identify(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def _shows_hidden_partner(self, request, object_id) -> bool:
        """Whether the project's history names a partner this user may not identify (R11)."""
        if may_identify(request):
            return False
        project = self.get_object(request, object_id)
        if project is None:
            return False
        ever = project.history.values("partner_id")
        return Partner.objects.filter(pk__in=ever, sensitivity=Sensitivity.HIGH).exists()

    def history_view(self, request, object_id, extra_context=None):
        if self._shows_hidden_partner(request, object_id):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if self._shows_hidden_partner(request, object_id):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_search_results(self, request, queryset, search_term):
        """Title (a trigram index on PostgreSQL), post code, and partner name for who may
        identify partners (R11); as conditions on the project table only, so that the
        database can combine indexes instead of scanning 100 000 projects."""
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(title__icontains=term)
        # The small tables first, as lists of ids: an OR of index conditions on one table.
        posts = list(Post.objects.filter(code__iexact=term).values_list("pk", flat=True))
        if posts:
            matches |= Q(post__in=posts)
        if may_identify(request):
            partners = Partner.objects.filter(name__icontains=term).values_list("pk", flat=True)
            partners = list(partners[:1000])
            if partners:
                matches |= Q(partner__in=partners)
        return queryset.filter(matches), False

    @admin.display(description=_("post"), ordering="post__code")
    def post_code(self, obj):
        return format_html('<span title="{}">{}</span>', obj.post.name, obj.post.code)

    @admin.display(description=_("priority"), ordering="priority__position")
    def priority_short(self, obj):
        name = str(obj.priority)
        short = name if len(name) <= 28 else name[:27] + "…"
        return format_html('<span title="{}">{}</span>', name, short)

    @admin.display(description=_("budget"), ordering="total_budget")
    def budget_eur(self, obj):
        return eur(obj.total_budget)

    @admin.display(description=_("disbursed"), ordering="total_disbursed")
    def disbursed_eur(self, obj):
        return eur(obj.total_disbursed)

    def save_model(self, request, obj, form, change):
        """The project and its budget lines are saved together in save_related."""

    def save_related(self, request, form, formsets, change):
        budget = None
        for formset in formsets:
            if formset.model is BudgetLine:
                changed = formset.has_changed()
                rows = inline_data(formset)
                if changed or not change:
                    budget = {d["year"]: d["amount"] for _i, d, gone in rows if not gone}
            else:
                inline_data(formset)
        data = form.cleaned_data
        results = list(data.get("intended_results") or [])
        if not change:
            saved = services.project_create(
                actor=request.user,
                post=data["post"],
                **{name: data[name] for name in PROJECT_FORM_FIELDS},
                intended_results=results,
                budget=budget or {},
            )
        else:
            saved = services.project_update(
                actor=request.user,
                project=form.instance,
                **{name: data[name] for name in PROJECT_FORM_FIELDS if name in form.changed_data},
                intended_results=results if "intended_results" in form.changed_data else None,
                budget=budget,
            )
        self.adopt(form.instance, saved)
        missing = selectors.years_without_budget(saved)
        if missing:
            self.message_user(
                request,
                _("[R9] No budget yet for %(years)s; a project has a budget per year it runs.")
                % {"years": ", ".join(map(str, missing))},
                messages.WARNING,
            )

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: money history stays


@admin.register(BudgetLine)
class BudgetLineAdmin(ReadOnlyAdmin):
    list_display = ["project", "year", "amount"]
    list_filter = ["year"]
    list_select_related = ["project"]
    search_fields = ["project__title", "project__post__code"]


@admin.register(Disbursement)
class DisbursementAdmin(ServiceHistoryAdmin):
    """Payments are recorded once and never edited (R5 keeps them within the budget)."""

    write_action = Action.PAY

    list_display = ["project", "date", "amount_eur", "reference"]
    list_filter = ["date"]
    list_select_related = ["project"]
    search_fields = ["project__title", "project__post__code", "reference"]
    autocomplete_fields = ["project"]
    date_hierarchy = "date"

    @admin.display(description=_("amount"), ordering="amount")
    def amount_eur(self, obj):
        return eur(obj.amount)

    def save_model(self, request, obj, form, change):
        saved = services.disbursement_create(
            actor=request.user,
            project=obj.project,
            date=obj.date,
            amount=obj.amount,
            reference=obj.reference,
        )
        self.adopt(obj, saved)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Results framework (R13) -------------------------------------------------------------------


class IndicatorValueInline(PolicyInline, admin.TabularInline):
    write_action = Action.REPORT_RESULTS
    model = IndicatorValue
    fields = ["year", "value", "note"]
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(ServiceHistoryAdmin):
    write_action = Action.REPORT_RESULTS
    list_display = ["name", "project", "intended_result", "unit", "baseline", "target", "latest"]
    list_select_related = ["project", "intended_result"]
    list_filter = [("intended_result__priority", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "project__title", "project__post__code"]
    autocomplete_fields = ["project", "intended_result"]
    inlines = [IndicatorValueInline]
    delete_service = services.indicator_delete
    action_argument = "indicator"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("values")

    @admin.display(description=_("latest reported"))
    def latest(self, obj):
        values = list(obj.values.all())
        if not values:
            return "—"
        last = values[-1]
        return format_html("{} ({})", number_format(last.value, use_l10n=True), last.year)

    def save_model(self, request, obj, form, change):
        saved = services.indicator_save(
            actor=request.user,
            indicator=obj if change else None,
            project=obj.project,
            intended_result=obj.intended_result,
            name=obj.name,
            unit=obj.unit,
            baseline=obj.baseline,
            target=obj.target,
        )
        self.adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            for inline_form, data, gone in inline_data(formset):
                if not (gone or inline_form.has_changed()):
                    continue
                delete = partial(
                    services.indicator_value_delete, actor=request.user, indicator=form.instance
                )
                if replaced_or_deleted(
                    inline_form, data, gone, "year", lambda year, delete=delete: delete(year=year)
                ):
                    continue
                services.indicator_value_set(
                    actor=request.user,
                    indicator=form.instance,
                    year=data["year"],
                    value=data["value"],
                    note=data.get("note", ""),
                )


@admin.register(IndicatorValue)
class IndicatorValueAdmin(ReadOnlyAdmin):
    list_display = ["indicator", "year", "value"]
    list_filter = ["year"]
    list_select_related = ["indicator"]
    search_fields = ["indicator__name", "indicator__project__title"]
