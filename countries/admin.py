from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property, lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fund.access import Action
from fund.admin import (
    PolicyImportExport,
    PolicyInline,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    describe,
    inline_data,
    replaced_or_deleted,
)
from fund.checks import MAX_BILATERAL_POSTS, MAX_MULTILATERAL_POSTS, REFORM_START_YEAR
from grants.models import FundYear
from grants.selectors import fund_years_with_totals
from readlog import services as readlog
from readlog.models import Door, Kind

from . import services
from .models import (
    Assessment,
    Country,
    Participation,
    Post,
    PostKind,
    PostMembership,
    SelectionCriterion,
)
from .resources import ParticipationResource, PostResource


@admin.register(Country)
class CountryAdmin(ReadOnlyAdmin):
    """ISO 3166-1 reference data from django-countries, loaded by migration."""

    list_display = ["code", "name_nl", "name_en", "dac_region"]
    list_filter = ["dac_region"]
    search_fields = ["code", "name_nl", "name_en"]


class PostMembershipInline(ReadOnlyInline):
    """Shown with the post; created and changed under "post memberships" (a service)."""

    model = PostMembership
    fields = ["user", "role"]
    readonly_fields = fields


@admin.register(Post)
class PostAdmin(PolicyImportExport, ServiceAdmin):
    write_action = Action.SAVE_POST
    resource_classes = [PostResource]
    list_display = ["code", "name", "kind", "city", "host_country", "is_demo"]
    list_filter = ["kind", "is_demo"]
    list_select_related = ["host_country"]
    search_fields = ["code", "name", "city", "host_country__name_nl"]
    autocomplete_fields = ["host_country", "countries_covered"]
    readonly_fields = ["public_id"]
    inlines = [PostMembershipInline]

    def save_model(self, request, obj, form, change):
        services.post_save(
            actor=request.user,
            post=obj,
            countries_covered=form.cleaned_data.get("countries_covered"),
        )

    def has_delete_permission(self, request, obj=None):
        # A post stays: its participations, money and history refer to it (R7, R11).
        return False

    def save_related(self, request, form, formsets, change):
        # countries_covered was set by the service; memberships are read-only here.
        for formset in formsets:
            inline_data(formset)


class AssessmentInline(PolicyInline, admin.TabularInline):
    write_action = Action.ASSESS_POST
    model = Assessment
    extra = 0
    max_num = 5
    fields = ["criterion", "score", "note"]


# A criterion's column is headed by one word, its full name on hover: five long headers
# would push the deciding columns (average score, selected) off a 1400 px screen.
CRITERION_HEADS = {
    SelectionCriterion.HUMAN_RIGHTS_SITUATION: _("Situation"),
    SelectionCriterion.IMPACT: _("Impact"),
    SelectionCriterion.DUTCH_INTERESTS: _("Interests"),
    SelectionCriterion.EXPERTISE: _("Expertise"),
    SelectionCriterion.MANAGEMENT_CAPACITY: _("Capacity"),
}


KIND_HEADS = {PostKind.BILATERAL: _("bilateral"), PostKind.MULTILATERAL: _("multilateral")}


def criterion_column(criterion, label):
    """A list column with the R12 score for one criterion (from the prefetched assessments)."""

    def score(obj):
        found = [a.score for a in obj.assessments.all() if a.criterion == criterion]
        return found[0] if found else "—"

    head = CRITERION_HEADS.get(criterion, label)
    score.short_description = lazy(
        lambda: format_html('<abbr title="{}">{}</abbr>', label, head), SafeString
    )()
    return score


def _note_years(request, participations) -> None:
    by_year: dict[int, list] = {}
    for participation in participations:
        year = participation.fund_year.year
        if year >= REFORM_START_YEAR:
            by_year.setdefault(year, []).append(participation.post.public_id)
    for year, ids in sorted(by_year.items()):
        readlog.note(request, Kind.PARTICIPATION, ids, year=year)


class SelectionYearFilter(admin.SimpleListFilter):
    """The fund year whose selection is shown: by default the one the running count (R1) is
    of, the newest reformed year — a year's candidates and decisions on one page, not the
    rows of every year mixed (which also cost a second page to render); "All years" shows
    them all. A search, "clear all filters" and the export stay within the year shown."""

    title = _("fund year")
    parameter_name = "fund_year"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [(str(year.pk), str(year.year)) for year in FundYear.objects.order_by("-year")]

    def value(self):
        return super().value() or self.default

    @cached_property
    def default(self) -> str:
        newest = newest_selection_year()
        return str(newest.pk) if newest else self.ALL

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ALL:
            return queryset
        year_id = fund_year_id(value)
        if year_id is None:
            raise IncorrectLookupParameters(value)
        return queryset.filter(fund_year_id=year_id)

    def choices(self, changelist):
        yield {
            "selected": self.value() == self.ALL,
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": _("All years"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


OLD_YEAR_PARAMETER = "fund_year__id__exact"  # Django's own fund-year filter, before this one


def fund_year_id(value: str | None) -> int | None:
    """The fund year's id the filter's value names: plain ASCII digits, else None."""
    return int(value) if value and value.isascii() and value.isdigit() else None


def newest_selection_year():
    """The newest reformed fund year (the selection page's default), or None."""
    return FundYear.objects.filter(year__gte=REFORM_START_YEAR).order_by("-year").first()


@admin.register(Participation)
class ParticipationAdmin(PolicyImportExport, ServiceAdmin):
    """The selection of posts per fund year (R1), with the R12 assessment per criterion next
    to each candidate and a running count of the selected posts against 31 and 5."""

    write_action = Action.SELECT_POST
    resource_classes = [ParticipationResource]
    change_list_template = "admin/countries/participation/change_list.html"
    list_display = [
        "post",
        "fund_year",
        "post_kind",
        *[criterion_column(value, label) for value, label in SelectionCriterion.choices],
        "average_score",
        "selected",
        "decided_on",
    ]
    list_filter = [SelectionYearFilter, "selected", "published", "post__kind"]
    list_select_related = ["post", "fund_year"]
    search_fields = ["post__code", "post__name"]
    autocomplete_fields = ["post"]
    readonly_fields = ["decider", "decided_at"]
    exclude = ["decided_by"]  # shown as `decider`, recorded by the service
    inlines = [AssessmentInline]
    actions = ["select_posts", "deselect_posts"]
    # Newest year first; click "average score" to put the best assessed (R12) on top.
    ordering = ["-fund_year__year", "post__kind", "post__code"]

    def get_queryset(self, request):
        # Not super(): its default ordering would name the annotation before it exists.
        return (
            Participation.objects.annotate(
                _average=Avg("assessments__score"), _criteria=Count("assessments")
            )
            .prefetch_related("assessments")
            .order_by(*self.get_ordering(request))
        )

    def has_select_permission(self, request):
        return self.may_write(request)

    @admin.action(description=_("Select the chosen posts for their fund year (R1)"),
                  permissions=["select"])  # fmt: skip
    def select_posts(self, request, queryset):
        self._set_selected(request, queryset, selected=True)

    @admin.action(description=_("Deselect the chosen posts (R6)"), permissions=["select"])
    def deselect_posts(self, request, queryset):
        self._set_selected(request, queryset, selected=False)

    def _set_selected(self, request, queryset, *, selected: bool):
        done = 0
        for participation in queryset.select_related("post", "fund_year"):
            try:
                with transaction.atomic():
                    services.participation_set(
                        actor=request.user,
                        post=participation.post,
                        fund_year=participation.fund_year,
                        selected=selected,
                        decision_note=participation.decision_note,
                    )
                done += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{participation.post}: {describe(error)}", messages.ERROR
                )
        if done:
            self.message_user(
                request,
                ngettext("%(count)d post updated.", "%(count)d posts updated.", done)
                % {"count": done},
                messages.SUCCESS,
            )

    def changelist_view(self, request, extra_context=None):
        """The running count (R1) of the fund year being looked at (the filter, or the
        newest reformed year)."""
        if OLD_YEAR_PARAMETER in request.GET:
            # A link or bookmark from before SelectionYearFilter: the same year, by its name now.
            query = request.GET.copy()
            query.setlist(SelectionYearFilter.parameter_name, query.pop(OLD_YEAR_PARAMETER))
            return redirect(f"{request.path}?{query.urlencode()}")
        years = fund_years_with_totals(FundYear.objects.filter(year__gte=REFORM_START_YEAR))
        chosen = fund_year_id(request.GET.get(SelectionYearFilter.parameter_name))
        year = (years.filter(pk=chosen) if chosen is not None else years).order_by("-year").first()
        extra_context = {
            **(extra_context or {}),
            "selection_year": year,
            "max_bilateral": MAX_BILATERAL_POSTS,
            "max_multilateral": MAX_MULTILATERAL_POSTS,
        }
        response = super().changelist_view(request, extra_context)
        self._note_selection_shown(request, response)
        return response

    @staticmethod
    def _note_selection_shown(request, response) -> None:
        """R11: the selection page shows candidates with their decision, so any of its pages
        reveals the confidential list of a year from 2026 — also a page of only the posts left
        out, whose complement it is: one read of each year's list shown, naming the posts on
        the page (the read log's own detection skips pages of every post)."""
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is None:
            return
        _note_years(request, changelist.result_list)

    def import_action(self, request, **kwargs):
        """The preview of a selection import shows candidates with their decisions: a read of
        the list (R11), whatever the page search makes of it."""
        response = super().import_action(request, **kwargs)
        result = getattr(response, "context_data", {}).get("result")
        if result is not None:
            readlog.note(request, Kind.PARTICIPATION, door=Door.IMPORT, count=len(result.rows))
        return response

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """An export of the selection is a read of each year's list it holds (R11)."""
        _note_years(request, queryset.select_related("post", "fund_year"))
        return super().get_export_data(file_format, request, queryset, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fixed = ["post", "fund_year"] if obj else []
        return [*fixed, *self.readonly_fields]

    def has_delete_permission(self, request, obj=None):
        # Deselect instead: that path checks R6 (no money or plan left behind) and keeps
        # the R12 assessment that explains the decision.
        return False

    @admin.display(description=_("kind"), ordering="post__kind")
    def post_kind(self, obj):
        """One word, the full kind on hover (a narrow column for a 1400 px screen)."""
        short = KIND_HEADS.get(obj.post.kind, obj.post.get_kind_display())
        return format_html('<abbr title="{}">{}</abbr>', obj.post.get_kind_display(), short)

    @admin.display(description=_("decided by"))
    def decider(self, obj):
        """The name only: a link would lead to the user list, which only a superuser opens."""
        return str(obj.decided_by) if obj.decided_by_id else "—"

    @admin.display(description=_("decided on"), ordering="decided_at")
    def decided_on(self, obj):
        """The day of the decision (its time is on the participation's page)."""
        if obj.decided_at is None:
            return "—"
        return date_format(timezone.localtime(obj.decided_at), "SHORT_DATE_FORMAT")

    @admin.display(description=_("average score (R12)"), ordering="_average")
    def average_score(self, obj):
        if obj._average is None:
            return "—"
        return f"{obj._average:.1f} ({obj._criteria}/5)"

    def save_model(self, request, obj, form, change):
        saved = services.participation_set(
            actor=request.user,
            post=obj.post,
            fund_year=obj.fund_year,
            selected=obj.selected,
            decision_note=obj.decision_note,
        )
        if obj.published != saved.published:
            # R11: making a participation public is a decision of its own (fund managers).
            saved = services.participation_publish(
                actor=request.user, participation=saved, published=obj.published
            )
        self.adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            for inline_form, data, gone in inline_data(formset):
                if not (gone or inline_form.has_changed()):
                    continue

                def delete(criterion, participation=form.instance):
                    services.assessment_delete(
                        actor=request.user, participation=participation, criterion=criterion
                    )

                if replaced_or_deleted(inline_form, data, gone, "criterion", delete):
                    continue
                services.assessment_set(
                    actor=request.user,
                    participation=form.instance,
                    criterion=data["criterion"],
                    score=data["score"],
                    note=data.get("note", ""),
                )


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ["participation", "criterion", "score"]
    list_filter = ["criterion", "participation__fund_year"]
    list_select_related = ["participation__post", "participation__fund_year"]
    search_fields = ["participation__post__code"]


@admin.register(PostMembership)
class PostMembershipAdmin(ServiceAdmin):
    """Embassy accounts and their post (R11); ministry accounts are refused by the service."""

    write_action = Action.SAVE_POST
    list_display = ["user", "post", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "post"]
    search_fields = ["user__username", "post__code"]
    # Users are picked from a list: the user admin itself is for superusers only.
    autocomplete_fields = ["post"]
    delete_service = services.membership_delete
    action_argument = "membership"

    def save_model(self, request, obj, form, change):
        saved = services.membership_set(
            actor=request.user, user=obj.user, post=obj.post, role=obj.role, language=obj.language
        )
        self.adopt(obj, saved)
