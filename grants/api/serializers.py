"""Shapes of the embassy API. They check types only; every rule is the services' (R1–R13).

Why one module of ~520 lines: the API's one representation of each object, defined once
and read by every view and by the OpenAPI schema.

Objects are named by their `id` (a UUID that says nothing about the post), priorities and
intended results by their code, countries by ISO code, years as numbers.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from countries.models import Post, PostKind
from fund.access import PostRole
from grants.models import (
    AnnualPlan,
    AnnualReport,
    AnnualReportStatus,
    Clearance,
    Disbursement,
    Indicator,
    IndicatorValue,
    Partner,
    PartnerType,
    PlanStatus,
    PlanTransition,
    Project,
    ProjectStatus,
    ReportTransition,
    Sensitivity,
)
from grants.selectors import annual_report_figures
from priorities.models import IntendedResult, Priority, Theme
from priorities.reference import INTENDED_RESULTS, PRIORITIES

from .base import StrictDateField, StrictDecimalField, StrictSerializer

MAX_TEXT = 20_000


def money(**kwargs):
    """An amount in euros: a decimal string or number, two decimals at most (R5)."""
    return StrictDecimalField(max_digits=14, decimal_places=2, **kwargs)


def year(**kwargs):
    return serializers.IntegerField(min_value=2000, max_value=2100, **kwargs)


# --- Reference data ---------------------------------------------------------------------------


PRIORITY_CODES = [code for code, *_rest in PRIORITIES]
RESULT_CODES = [
    f"{priority}.{slug}" for priority, results in INTENDED_RESULTS.items() for slug, *_t in results
]


@extend_schema_field(
    {"type": "string", "enum": PRIORITY_CODES, "description": "One of the 5+1 priorities (R3)."},
    component_name="PriorityCode",
)
class PriorityCodeField(serializers.CharField):
    """A priority by its code: the schema lists the 5+1 (R3); the service refuses others."""


@extend_schema_field(
    {"type": "string", "enum": RESULT_CODES,
     "description": "An intended result of a priority (R13): `<priority code>.<result>`."},
    component_name="IntendedResultCode",
)  # fmt: skip
class ResultCodeField(serializers.CharField):
    """An intended result by its code: the schema lists them all (R13)."""


class IntendedResultSerializer(serializers.ModelSerializer):
    code = ResultCodeField(help_text="`<priority code>.<result>`, e.g. `women_girls.srhr`.")

    class Meta:
        model = IntendedResult
        fields = ["code", "text_nl", "text_en"]


class PrioritySerializer(serializers.ModelSerializer):
    code = PriorityCodeField()
    theme = serializers.ChoiceField(choices=Theme.choices)
    intended_results = IntendedResultSerializer(many=True, read_only=True)

    class Meta:
        model = Priority
        fields = ["code", "name_nl", "name_en", "is_plus_one", "theme", "intended_results"]


class PostSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PostKind.choices)

    class Meta:
        model = Post
        fields = ["code", "name", "kind", "city"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    post = PostSerializer()
    role = serializers.ChoiceField(choices=PostRole.choices)
    years = serializers.ListField(
        child=serializers.IntegerField(), help_text="Fund years the post takes part in (R6)."
    )


class MoneySerializer(serializers.Serializer):
    """The post's money in a fund year (R5), as the ministry's money overview shows it."""

    allocated = money(help_text="Allocated to the post for the year.")
    in_plan = money(help_text="Divided over the plan's chosen priorities.")
    planned = money(help_text="Budget lines of planned projects in the year.")
    committed = money(help_text="Budget lines of active and completed projects in the year.")
    disbursed = money(help_text="Paid out in the calendar year.")
    remaining = money(help_text="Allocated minus planned and committed.")


class FundYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    plan_submission_deadline = StrictDateField()
    review_deadline = StrictDateField(allow_null=True)
    report_deadline = StrictDateField(
        allow_null=True, help_text="When the annual report on this year is due (R10)."
    )
    min_project_size = money(help_text="R9: projects below this total count as fragmentation.")
    participates = serializers.BooleanField(help_text="Whether the post is selected (R1, R6).")
    plan = serializers.UUIDField(allow_null=True, help_text="The post's annual plan, if any.")
    annual_report = serializers.UUIDField(
        allow_null=True, help_text="The post's annual report on this year, if any (R13)."
    )
    money = MoneySerializer()


# --- Plans -----------------------------------------------------------------------------------


class ChosenPrioritySerializer(StrictSerializer):
    priority = PriorityCodeField(max_length=40, help_text="Code of one of the 5+1 priorities (R3).")
    amount = money(min_value=0, help_text="Euros of the allocation planned for it (R5).")
    intended_results = serializers.ListField(
        child=ResultCodeField(max_length=80),
        required=False,
        help_text="Codes of the priority's intended results the post aims at this year (R13); "
        "projects serve only these. Left out: a priority keeps its aims, and a newly chosen "
        "one aims at all of its intended results.",
    )


class CycleTransitionSerializer(serializers.ModelSerializer):
    """A step of a yearly cycle (R10): who, when, why."""

    by = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_by(self, transition) -> str | None:
        """Who took the step: a user of the post by name, otherwise "ministry" (R11)."""
        actor = transition.actor
        if actor is None:
            return None
        # Read with the step where the view asked (`by_post_user`), else from the context.
        in_post = getattr(transition, "by_post_user", None)
        if in_post is None:
            in_post = actor.pk in self.context.get("post_user_ids", set())
        return actor.get_username() if in_post else "ministry"


class PlanTransitionSerializer(CycleTransitionSerializer):
    from_status = serializers.ChoiceField(choices=[("", ""), *PlanStatus.choices])
    to_status = serializers.ChoiceField(choices=PlanStatus.choices)

    class Meta:
        model = PlanTransition
        fields = ["from_status", "to_status", "version", "at", "comment", "by"]


def _aim_codes(chosen) -> list[str]:
    """A chosen priority's aims in their order: read with it as an array where the view asked
    (`aim_codes`, PostgreSQL), else from its aims."""
    codes = getattr(chosen, "aim_codes", None)
    if codes is None:
        codes = [aim.intended_result.code for aim in chosen.aims.all()]
    return list(codes)


class PlanSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    year = serializers.IntegerField(source="fund_year.year", read_only=True)
    status = serializers.ChoiceField(choices=PlanStatus.choices, read_only=True)
    editable = serializers.BooleanField(
        source="is_editable", read_only=True, help_text="Draft, returned or amending (R10)."
    )
    priorities = serializers.SerializerMethodField()
    transitions = PlanTransitionSerializer(many=True, read_only=True)

    class Meta:
        model = AnnualPlan
        fields = [
            "id",
            "year",
            "status",
            "version",
            "editable",
            "narrative",
            "priorities",
            "transitions",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(ChosenPrioritySerializer(many=True))
    def get_priorities(self, plan):
        return [
            {
                "priority": chosen.priority.code,
                "amount": f"{chosen.amount:.2f}",
                "intended_results": _aim_codes(chosen),
            }
            for chosen in plan.plan_priorities.all()
        ]


class PlanCreateSerializer(StrictSerializer):
    year = year(help_text="The fund year; the post must take part in it (R6).")
    narrative = serializers.CharField(allow_blank=True, required=False, max_length=MAX_TEXT)
    priorities = ChosenPrioritySerializer(
        many=True, required=False, help_text="At most two of the 5+1 priorities (R2)."
    )


class PlanUpdateSerializer(StrictSerializer):
    narrative = serializers.CharField(allow_blank=True, max_length=MAX_TEXT)
    priorities = ChosenPrioritySerializer(
        many=True, help_text="Replaces the chosen priorities: at most two (R2), within R5."
    )


class PlanSubmitSerializer(StrictSerializer):
    comment = serializers.CharField(allow_blank=True, required=False, max_length=MAX_TEXT)


class AnnualReportSubmitSerializer(PlanSubmitSerializer):
    """The same body as the plan's submit, named after its own resource in the schema."""


# --- Annual reports (R10, R13) ----------------------------------------------------------------


class ReportTransitionSerializer(CycleTransitionSerializer):
    from_status = serializers.ChoiceField(choices=[("", ""), *AnnualReportStatus.choices])
    to_status = serializers.ChoiceField(choices=AnnualReportStatus.choices)

    class Meta:
        model = ReportTransition
        fields = ["from_status", "to_status", "at", "comment", "by"]


class ReportedValueSerializer(serializers.Serializer):
    project = serializers.UUIDField(source="project_id", help_text="`id` of the project.")
    project_title = serializers.CharField(source="project")
    indicator = serializers.CharField()
    unit = serializers.CharField()
    baseline = StrictDecimalField(max_digits=14, decimal_places=2)
    target = StrictDecimalField(max_digits=14, decimal_places=2)
    value = StrictDecimalField(
        max_digits=14, decimal_places=2, help_text="Reported for the report's year."
    )


class ResultProgressSerializer(serializers.Serializer):
    intended_result = ResultCodeField(source="intended_result.code")
    progress = serializers.CharField(help_text="The post's text; empty until written.")
    values = ReportedValueSerializer(
        many=True, help_text="What the post's projects' indicators reported for the year."
    )


class ReportPrioritySerializer(serializers.Serializer):
    priority = PriorityCodeField(source="priority.code")
    in_plan = money(help_text="Planned for the priority in the annual plan.")
    planned = money(help_text="Budget lines of planned projects in the year.")
    committed = money(help_text="Budget lines of active and completed projects in the year.")
    disbursed = money(help_text="Paid out in the year.")
    results = ResultProgressSerializer(
        many=True, help_text="One per intended result the plan aims at (R13)."
    )


class ReportMoneySerializer(serializers.Serializer):
    allocated = money()
    in_plan = money()
    planned = money()
    committed = money()
    disbursed = money()
    remaining = money(help_text="Allocated minus planned and committed.")


class AnnualReportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    year = serializers.IntegerField(source="fund_year.year", read_only=True)
    status = serializers.ChoiceField(choices=AnnualReportStatus.choices, read_only=True)
    editable = serializers.BooleanField(
        source="is_editable", read_only=True, help_text="Draft or returned (R10)."
    )
    priorities = serializers.SerializerMethodField()
    money = serializers.SerializerMethodField()
    transitions = ReportTransitionSerializer(many=True, read_only=True)

    class Meta:
        model = AnnualReport
        fields = [
            "id",
            "year",
            "status",
            "editable",
            "summary",
            "priorities",
            "money",
            "transitions",
            "created_at",
            "updated_at",
        ]

    def _figures(self, report) -> dict:
        # Computed from the data (grants.selectors), never typed in; once per report.
        figures = getattr(report, "_figures", None)
        if figures is None:
            figures = annual_report_figures(post_id=report.post_id, fund_year=report.fund_year)
            report._figures = figures
        return figures

    @extend_schema_field(ReportPrioritySerializer(many=True))
    def get_priorities(self, report):
        return ReportPrioritySerializer(self._figures(report)["priorities"], many=True).data

    @extend_schema_field(ReportMoneySerializer)
    def get_money(self, report):
        return ReportMoneySerializer(self._figures(report)["money"]).data


class AnnualReportSummarySerializer(serializers.ModelSerializer):
    """A report in the list: where it stands. Its figures and history are in its detail, so a
    list costs the same queries however many years a post has reported on."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    year = serializers.IntegerField(source="fund_year.year", read_only=True)
    status = serializers.ChoiceField(choices=AnnualReportStatus.choices, read_only=True)
    editable = serializers.BooleanField(
        source="is_editable", read_only=True, help_text="Draft or returned (R10)."
    )

    class Meta:
        model = AnnualReport
        fields = ["id", "year", "status", "editable", "summary", "created_at", "updated_at"]


class ProgressInputSerializer(StrictSerializer):
    intended_result = ResultCodeField(
        max_length=80, help_text="Code of an intended result the year's plan aims at (R13)."
    )
    progress = serializers.CharField(
        allow_blank=True, max_length=MAX_TEXT, help_text="Empty takes the text out."
    )


def distinct_progress(items):
    """Each entry complete (a PATCH does not make its fields optional) and each intended
    result once: two texts for one result would silently drop one."""
    for item in items:
        missing = sorted({"intended_result", "progress"} - set(item))
        if missing:
            raise serializers.ValidationError(
                _("Each progress entry needs %(fields)s.") % {"fields": ", ".join(missing)}
            )
    codes = [item["intended_result"] for item in items]
    twice = sorted({code for code in codes if codes.count(code) > 1})
    if twice:
        raise serializers.ValidationError(
            _("Give each intended result once; named more than once: %(codes)s.")
            % {"codes": ", ".join(twice)}
        )
    return items


class AnnualReportCreateSerializer(StrictSerializer):
    year = year(help_text="A fund year from 2026 whose annual plan is approved (R7, R10).")
    summary = serializers.CharField(allow_blank=True, required=False, max_length=MAX_TEXT)
    progress = ProgressInputSerializer(many=True, required=False)

    def validate_progress(self, items):
        return distinct_progress(items)


class AnnualReportUpdateSerializer(StrictSerializer):
    summary = serializers.CharField(allow_blank=True, max_length=MAX_TEXT)
    progress = ProgressInputSerializer(
        many=True, help_text="Progress per intended result; results not named keep theirs."
    )

    def validate_progress(self, items):
        return distinct_progress(items)


# --- Partners ----------------------------------------------------------------------------------


class PartnerSerializer(StrictSerializer, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    partner_type = serializers.ChoiceField(choices=PartnerType.choices, help_text="R8.")
    country = serializers.CharField(
        source="country_id", min_length=2, max_length=2, help_text="ISO 3166 code, e.g. 'KE'."
    )
    sensitivity = serializers.ChoiceField(
        choices=Sensitivity.choices,
        required=False,
        help_text=(
            "R11: set freely on a new partner; afterwards a post may raise it, and only the "
            "ministry lowers it (a lower value is refused with code R11)."
        ),
    )
    cleared_for_publication = serializers.BooleanField(
        read_only=True,
        help_text=(
            "R11: whether the ministry cleared the partner's name, country and its projects' "
            "texts for publication (IATI). Set by the ministry only; ask with "
            "POST .../request-clearance/."
        ),
    )
    clearance = serializers.ChoiceField(
        choices=Clearance.choices,
        read_only=True,
        help_text="R11: the state of the post's request for clearance; the ministry decides.",
    )

    class Meta:
        model = Partner
        fields = [
            "id",
            "name",
            "partner_type",
            "country",
            "sensitivity",
            "cleared_for_publication",
            "clearance",
        ]
        extra_kwargs = {"name": {"validators": []}}


class ClearanceRequestSerializer(StrictSerializer):
    comment = serializers.CharField(
        allow_blank=True,
        required=False,
        max_length=MAX_TEXT,
        help_text="Why the partner may be named (e.g. it publishes its Dutch funding itself).",
    )


# --- Projects --------------------------------------------------------------------------------


class BudgetLineSerializer(StrictSerializer):
    year = year()
    amount = money(min_value=0)


class CodeListField(serializers.ListField):
    """Related objects (intended results) listed by their codes."""

    def to_representation(self, data):
        if hasattr(data, "all"):
            data = [item.code for item in data.all()]
        return super().to_representation(data)


class ProjectSerializer(StrictSerializer, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    partner = serializers.UUIDField(
        source="partner.public_id", help_text="`id` of one of the post's partners (R11)."
    )
    priority = PriorityCodeField(
        source="priority.code", max_length=40, help_text="One of the plan's priorities (R4)."
    )
    status = serializers.ChoiceField(choices=ProjectStatus.choices, required=False)
    intended_results = CodeListField(
        child=ResultCodeField(max_length=80),
        required=False,
        help_text="Codes of intended results of the project's priority (R13).",
    )
    budget = BudgetLineSerializer(
        source="budget_lines",
        many=True,
        required=False,
        help_text="Amount per calendar year (R9); counts against that year's allocation (R5).",
    )
    total_budget = money(read_only=True)
    disbursed = money(read_only=True, source="total_disbursed")

    class Meta:
        model = Project
        fields = [
            "id",
            "partner",
            "priority",
            "title",
            "description",
            "start_date",
            "end_date",
            "status",
            "intended_results",
            "budget",
            "total_budget",
            "disbursed",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"description": {"max_length": MAX_TEXT}}


# --- Results -----------------------------------------------------------------------------------


class IndicatorValueSerializer(StrictSerializer, serializers.ModelSerializer):
    year = year(help_text="A calendar year the project runs in (R13), from 2026 (R7).")
    value = StrictDecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = IndicatorValue
        fields = ["year", "value", "note"]
        extra_kwargs = {"note": {"max_length": MAX_TEXT}}


class IndicatorValueUpdateSerializer(StrictSerializer):
    value = StrictDecimalField(max_digits=14, decimal_places=2)
    note = serializers.CharField(allow_blank=True, required=False, max_length=MAX_TEXT)


class IndicatorSerializer(StrictSerializer, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    intended_result = ResultCodeField(
        source="intended_result.code",
        max_length=80,
        help_text="An intended result the project serves (R13).",
    )
    baseline = StrictDecimalField(max_digits=14, decimal_places=2)
    target = StrictDecimalField(max_digits=14, decimal_places=2)
    values = IndicatorValueSerializer(many=True, read_only=True)

    class Meta:
        model = Indicator
        fields = ["id", "intended_result", "name", "unit", "baseline", "target", "values"]


class DisbursementSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    project = serializers.UUIDField(source="project.public_id", read_only=True)

    class Meta:
        model = Disbursement
        fields = ["id", "project", "date", "amount", "reference"]
