"""Projects, their budget lines and disbursements (R4, R5, R8, R9)."""

from __future__ import annotations

from datetime import date

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Min, Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from countries.models import Post
from fund.access import Action
from fund.admin import (
    CappedCountPaginator,
    PolicyInline,
    ReadOnlyAdmin,
    ReadOnlyInline,
    inline_data,
)
from fund.checks import eur
from grants import selectors, services
from grants.models import (
    BudgetLine,
    Disbursement,
    Partner,
    Project,
    Sensitivity,
)

from .common import ServiceHistoryAdmin
from .partners import identity_column, may_identify


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


class StartYearFilter(admin.SimpleListFilter):
    """The year a project starts, newest first: the years between the first and the last
    start date (two ends of an index), where a date hierarchy read every project's date to
    find its years (82 ms at 100 000 projects, docs/performance.md)."""

    title = _("start year")
    parameter_name = "start_year"

    def lookups(self, request, model_admin):
        ends = Project.objects.aggregate(first=Min("start_date"), last=Max("start_date"))
        if ends["first"] is None:
            return []
        years = range(ends["last"].year, ends["first"].year - 1, -1)
        return [(str(year), str(year)) for year in years]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isascii() and value.isdigit():
            year = int(value)
            return queryset.filter(
                start_date__gte=date(year, 1, 1), start_date__lt=date(year + 1, 1, 1)
            )
        return queryset


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
    list_filter = ["status", "priority", "post__kind", StartYearFilter, "start_date"]
    list_select_related = ["post", "partner", "priority"]
    search_fields = ["title", "post__code", "partner__name"]
    autocomplete_fields = ["post", "partner"]
    filter_horizontal = ["intended_results"]
    readonly_fields = ["public_id"]
    inlines = [BudgetLineInline, DisbursementInline]
    # At 100 000 projects a count of all of them is 12 ms; the filtered list's count is shown.
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator  # "more than 1000": a common word is not counted

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
