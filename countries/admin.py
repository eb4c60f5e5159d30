from django.contrib import admin
from django.db.models import Avg, Count
from django.utils.translation import gettext_lazy as _

from grants.access import Action
from grants.admin_base import (
    PolicyInline,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    inline_data,
    replaced_or_deleted,
)

from . import services
from .models import Assessment, Country, Participation, Post, PostMembership


@admin.register(Country)
class CountryAdmin(ReadOnlyAdmin):
    """ISO 3166-1 reference data from django-countries, loaded by migration."""

    list_display = ["code", "name_nl", "name_en"]
    search_fields = ["code", "name_nl", "name_en"]


class PostMembershipInline(ReadOnlyInline):
    """Shown with the post; created and changed under "post memberships" (a service)."""

    model = PostMembership
    fields = ["user", "role"]
    readonly_fields = fields


@admin.register(Post)
class PostAdmin(ServiceAdmin):
    write_action = Action.SAVE_POST
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


@admin.register(Participation)
class ParticipationAdmin(ServiceAdmin):
    """R1 selection of posts per fund year with the R12 assessment behind it."""

    write_action = Action.SELECT_POST

    list_display = ["post", "fund_year", "post_kind", "selected", "average_score", "decided_at"]
    list_filter = ["fund_year", "selected", "post__kind"]
    list_select_related = ["post", "fund_year"]
    search_fields = ["post__code", "post__name"]
    autocomplete_fields = ["post"]
    readonly_fields = ["decided_by", "decided_at"]
    inlines = [AssessmentInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_average=Avg("assessments__score"), _criteria=Count("assessments"))
        )

    def get_readonly_fields(self, request, obj=None):
        fixed = ["post", "fund_year"] if obj else []
        return [*fixed, *self.readonly_fields]

    def has_delete_permission(self, request, obj=None):
        # Deselect instead: that path checks R6 (no money or plan left behind) and keeps
        # the R12 assessment that explains the decision.
        return False

    @admin.display(description=_("kind"), ordering="post__kind")
    def post_kind(self, obj):
        return obj.post.get_kind_display()

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
    autocomplete_fields = ["user", "post"]
    delete_service = services.membership_delete
    action_argument = "membership"

    def save_model(self, request, obj, form, change):
        saved = services.membership_set(
            actor=request.user, user=obj.user, post=obj.post, role=obj.role
        )
        self.adopt(obj, saved)
