"""Annual plans: the list, the review page with its decisions, the bulk steps (R2, R4, R10,
R13).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from fund.access import Action, can
from fund.admin import (
    PolicyInline,
    ReadOnlyAdmin,
    ReadOnlyInline,
    describe,
    inline_data,
    is_ministry,
)
from grants import selectors, services
from grants.cycles import PLAN_CYCLE, WITHDRAWABLE_PLAN_STATUSES
from grants.models import (
    AnnualPlan,
    AnnualReport,
    AnnualReportStatus,
    PlanPriority,
    PlanTransition,
)

from .common import ServiceHistoryAdmin, TransitionCommentForm, reviewer_steps
from .partners import partner_label


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
                status__in=PLAN_CYCLE.owed,
                fund_year__plan_submission_deadline__lt=today,
            )
        if self.value() == "review":
            return queryset.filter(
                status=PLAN_CYCLE.submitted, fund_year__review_deadline__lt=today
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
    readonly_fields = ["public_id", "status", "version", "aims"]
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

    @admin.display(description=_("intended results aimed at (R13)"))
    def aims(self, obj):
        """Per chosen priority, the intended results the plan aims at (R13)."""
        rows = obj.plan_priorities.select_related("priority").prefetch_related(
            "aims__intended_result"
        )
        parts = [
            format_html(
                "<strong>{}</strong>: {}",
                row.priority,
                "; ".join(str(aim.intended_result) for aim in row.aims.all()) or "—",
            )
            for row in rows
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((part,) for part in parts)) or "—"

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
            # R10: who took each step, when and why (no edit refusal: a reviewer decides).
            "transitions": plan.transitions.select_related("actor").order_by("at", "pk"),
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
                items = [
                    services.ChosenPriority(data["priority"], data["amount"])
                    for _i, data, gone in rows
                    if not gone
                ]
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
