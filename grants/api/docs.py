"""OpenAPI descriptions and example requests of the embassy API's writes."""

from drf_spectacular.utils import OpenApiExample, extend_schema

from . import serializers as s

_PLAN_RULES = (
    "Rules: the post takes part in the year (R6); at most two of the 5+1 priorities (R2, R3); "
    "their amounts together within the allocation (R5); years before 2026 are history (R7); "
    "one plan per post and year, editable only while draft, returned or amending (R10, 409)."
)

plan_create = extend_schema(
    summary="Start the post's annual plan for a year, optionally with its priorities.",
    description=_PLAN_RULES,
    request=s.PlanCreateSerializer,
    responses={201: s.PlanSerializer},
    examples=[
        OpenApiExample(
            "Plan with two priorities",
            request_only=True,
            value={
                "year": 2026,
                "narrative": "We focus on civic space and on women's rights defenders.",
                "priorities": [
                    {"priority": "defenders_civic_space", "amount": "150000.00"},
                    {"priority": "women_girls", "amount": "100000.00"},
                ],
            },
        )
    ],
)
_plan_update_example = OpenApiExample(
    "Change narrative and priorities",
    request_only=True,
    value={
        "narrative": "Updated after the embassy's annual planning day.",
        "priorities": [
            {"priority": "defenders_civic_space", "amount": "200000.00"},
            {"priority": "lgbtiq", "amount": "50000.00"},
        ],
    },
)
plan_update = extend_schema(
    summary="Replace narrative and priorities of an editable plan.",
    description=_PLAN_RULES,
    request=s.PlanUpdateSerializer,
    responses=s.PlanSerializer,
    examples=[_plan_update_example],
)
plan_partial_update = extend_schema(
    summary="Change narrative or priorities of an editable plan.",
    description=_PLAN_RULES,
    request=s.PlanUpdateSerializer,
    responses=s.PlanSerializer,
    examples=[
        OpenApiExample(
            "Change the narrative only",
            request_only=True,
            value={"narrative": "Updated after the embassy's annual planning day."},
        )
    ],
)
plan_destroy = extend_schema(
    summary="Withdraw a plan that was never approved (R10).",
    description="Refused (R4) while projects run in the year under the plan's priorities.",
)
plan_add_priority = extend_schema(
    operation_id="plans_add_priority",
    summary="Add one priority with its amount to an editable plan.",
    description="The plan's other priorities stay; a third one is refused (R2), as is an "
    "amount beyond the allocation (R5). Two colleagues adding at once: one wins, the other "
    "gets the R2 refusal.",
    request=s.ChosenPrioritySerializer,
    responses=s.PlanSerializer,
    examples=[
        OpenApiExample(
            "Add LGBTIQ+ rights",
            request_only=True,
            value={"priority": "lgbtiq", "amount": "100000.00"},
        )
    ],
)
plan_submit = extend_schema(
    operation_id="plans_submit",
    summary="Submit the plan for review (R10).",
    description="Needs at least one priority (R2) and amounts within the allocation (R5).",
    request=s.PlanSubmitSerializer,
    responses=s.PlanSerializer,
    examples=[
        OpenApiExample(
            "Submit with a note",
            request_only=True,
            value={"comment": "Discussed with the ambassador."},
        )
    ],
)

_REPORT_RULES = (
    "Rules: a fund year from 2026 (R7) in which the post takes part (R6), with an approved "
    "annual plan (R10); one report per post and year; progress only on the intended results "
    "the plan aims at (R13); editable only while draft or returned (R10, 409). The figures "
    "(reported indicator values, money) are computed, not sent."
)
_progress_example = [
    {"intended_result": "women_girls.violence", "progress": "Three shelters opened."},
    {"intended_result": "women_girls.srhr", "progress": "Two clinics trained."},
]
annual_report_create = extend_schema(
    summary="Start the post's annual report for a year, optionally with its progress texts.",
    description=_REPORT_RULES,
    request=s.AnnualReportCreateSerializer,
    responses={201: s.AnnualReportSerializer},
    examples=[
        OpenApiExample(
            "Report with progress",
            request_only=True,
            value={
                "year": 2026,
                "summary": "A year of steady work.",
                "progress": _progress_example,
            },
        )
    ],
)
annual_report_update = extend_schema(
    summary="Replace the summary and give progress texts of an editable report.",
    description=_REPORT_RULES,
    request=s.AnnualReportUpdateSerializer,
    responses=s.AnnualReportSerializer,
    examples=[
        OpenApiExample(
            "Summary and progress",
            request_only=True,
            value={"summary": "A year of steady work.", "progress": _progress_example},
        )
    ],
)
annual_report_partial_update = extend_schema(
    summary="Change the summary or progress texts of an editable report.",
    description=_REPORT_RULES,
    request=s.AnnualReportUpdateSerializer,
    responses=s.AnnualReportSerializer,
    examples=[
        OpenApiExample(
            "One result's progress",
            request_only=True,
            value={"progress": _progress_example[:1]},
        )
    ],
)
annual_report_submit = extend_schema(
    operation_id="annual_reports_submit",
    summary="Submit the annual report for review (R10).",
    description="Needs progress on every intended result the plan aims at (R13).",
    request=s.AnnualReportSubmitSerializer,
    responses=s.AnnualReportSerializer,
    examples=[
        OpenApiExample(
            "Submit with a note",
            request_only=True,
            value={"comment": "Discussed with the ambassador."},
        )
    ],
)

_partner_example = {
    "name": "Stichting Vrije Stem",
    "partner_type": "local_cso",
    "country": "KE",
    "sensitivity": "sensitive",
}
partner_create = extend_schema(
    summary="Add an implementing partner of the post (R8: its type is required).",
    examples=[OpenApiExample("Local NGO", request_only=True, value=_partner_example)],
    responses={201: s.PartnerSerializer},
)
partner_update = extend_schema(
    summary="Replace a partner's details.",
    examples=[OpenApiExample("Local NGO", request_only=True, value=_partner_example)],
)
partner_partial_update = extend_schema(
    summary="Change some of a partner's details.",
    examples=[
        OpenApiExample("Raise the sensitivity", request_only=True, value={"sensitivity": "high"})
    ],
)
partner_request_clearance = extend_schema(
    summary="Ask the ministry to clear the partner for publication (R11).",
    description=(
        "Publication (the partner's name, its country and its projects' texts in the "
        "ministry's IATI files) is the ministry's decision: a fund manager grants or refuses "
        "the request, and `clearance` shows where it stands. Asking again while a request is "
        "open, or for a partner already cleared, is refused with code R11."
    ),
    examples=[
        OpenApiExample(
            "Ask with a note",
            request_only=True,
            value={"comment": "The partner publishes its Dutch funding itself."},
        )
    ],
    request=s.ClearanceRequestSerializer,
    responses={200: s.PartnerSerializer},
)

_PROJECT_RULES = (
    "Rules: the partner is the post's own (R11, 404 otherwise); the priority is one of the "
    "post's plan for each budget year (R4); budget lines within what is left of the "
    "allocation (R5) in years the post takes part in (R6), not before 2026 (R7); the end "
    "after the start (R9); intended results of the project's priority (R13)."
)
_project_example = {
    "partner": "3f1c2b9e-8d1a-4c55-9a43-2f0e4b7d9c10",
    "priority": "defenders_civic_space",
    "title": "Safe spaces for journalists",
    "description": "Legal aid and digital security for local journalists.",
    "start_date": "2026-03-01",
    "end_date": "2027-12-31",
    "status": "planned",
    "intended_results": ["defenders_civic_space.protection"],
    "budget": [{"year": 2026, "amount": "120000.00"}, {"year": 2027, "amount": "80000.00"}],
}
project_create = extend_schema(
    summary="Create a project with its budget lines per year.",
    description=_PROJECT_RULES,
    examples=[OpenApiExample("Two-year project", request_only=True, value=_project_example)],
    responses={201: s.ProjectSerializer},
)
project_update = extend_schema(
    summary="Replace a project: budget lines and intended results left out are removed; "
    "`description` and `status`, when left out, keep their value.",
    description=_PROJECT_RULES + " Payments already made stay covered by the budget (R5).",
    examples=[OpenApiExample("Two-year project", request_only=True, value=_project_example)],
)
project_partial_update = extend_schema(
    summary="Change some of a project's fields; `budget`, when given, replaces all lines.",
    description=_PROJECT_RULES,
    examples=[
        OpenApiExample("Commit the project", request_only=True, value={"status": "active"}),
        OpenApiExample(
            "New budget",
            request_only=True,
            value={"budget": [{"year": 2026, "amount": "100000.00"}]},
        ),
    ],
)

_indicator_example = {
    "intended_result": "defenders_civic_space.protection",
    "name": "Journalists trained in digital security",
    "unit": "people",
    "baseline": "0",
    "target": "120",
}
indicator_create = extend_schema(
    summary="Add an indicator for an intended result the project serves (R13).",
    examples=[OpenApiExample("Indicator", request_only=True, value=_indicator_example)],
    responses={201: s.IndicatorSerializer},
)
indicator_update = extend_schema(
    summary="Replace an indicator.",
    examples=[OpenApiExample("Indicator", request_only=True, value=_indicator_example)],
)
indicator_partial_update = extend_schema(
    summary="Change some of an indicator's fields.",
    examples=[OpenApiExample("New target", request_only=True, value={"target": "150"})],
)
indicator_destroy = extend_schema(
    summary="Remove an indicator and its values (none before 2026, R7)."
)
value_create = extend_schema(
    summary="Report the indicator's value for a year the project runs in (R13).",
    description="409 if a value for the year exists: change it with PUT and If-Match.",
    examples=[
        OpenApiExample(
            "2026 value",
            request_only=True,
            value={"year": 2026, "value": "45", "note": "Two trainings held."},
        )
    ],
    responses={201: s.IndicatorValueSerializer},
)
value_update = extend_schema(
    summary="Change the value reported for a year.",
    request=s.IndicatorValueUpdateSerializer,
    responses=s.IndicatorValueSerializer,
    examples=[OpenApiExample("Corrected", request_only=True, value={"value": "47", "note": ""})],
)
value_partial_update = extend_schema(
    summary="Change the value or its note.",
    request=s.IndicatorValueUpdateSerializer,
    responses=s.IndicatorValueSerializer,
    examples=[OpenApiExample("Corrected", request_only=True, value={"value": "47"})],
)
value_destroy = extend_schema(summary="Withdraw the value reported for a year (not before 2026).")
