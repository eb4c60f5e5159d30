"""Indicators and the values reported for them (R7, R13)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fund.access import Action
from fund.checks import (
    REFORM_START_YEAR,
    FundRuleError,
    ensure_instance,
    ensure_number,
    ensure_text,
    ensure_year,
    ensure_year_writable,
)
from fund.services import authorize, current_post_id, locked, pk_of, save_validated, service
from grants.models import (
    Indicator,
    IndicatorValue,
    Project,
)
from priorities.models import IntendedResult

from .base import lock_post, resolve_intended_results

# --------------------------------------------------------------------------------------------
# Results (R13)


def _locked_project_for_results(
    actor, project: Project | int, *, history_import: bool, what=None, field="project"
) -> Project:
    """The project under its post's lock, once the actor may report on it; a project wholly
    before the reform is history (R7)."""
    what = what or _("project")
    lock_post(current_post_id(Project, project, what=what, field=field))
    project = locked(Project.objects.all(), project, what=what, field=field)
    authorize(actor, Action.REPORT_RESULTS, project, what=what, field=field,
              history_import=history_import)  # fmt: skip
    if project.end_date.year < REFORM_START_YEAR:
        ensure_year_writable(project.end_date.year, history_import=history_import,
                             field=field)  # fmt: skip
    return project


def _locked_indicator(actor, indicator: Indicator, *, history_import: bool) -> Indicator:
    what = _("indicator")
    project_id = current_post_id(
        Indicator, indicator, what=what, field="indicator", path="project_id"
    )
    project = _locked_project_for_results(
        actor, project_id, history_import=history_import, what=what, field="indicator"
    )
    indicator = locked(Indicator.objects.all(), indicator, what=what, field="indicator")
    indicator.project = project
    return indicator


@service
def indicator_save(
    *,
    actor,
    project: Project,
    intended_result: IntendedResult,
    name: str,
    unit: str,
    baseline,
    target,
    indicator: Indicator | None = None,
    history_import: bool = False,
) -> Indicator:
    """An indicator measures a result the project serves (R13); it stays with its project."""
    if indicator is not None:
        # One post lock only: the indicator's own (a second, in any order, could deadlock).
        indicator = _locked_indicator(actor, indicator, history_import=history_import)
        if indicator.project_id != pk_of(project, Project, what=_("project"), field="project"):
            raise FundRuleError(
                "R13",
                _("An indicator stays with its project, with the values reported for it."),
                field="project",
            )
        project = indicator.project
        first_year = indicator.values.order_by("year").values_list("year", flat=True).first()
        if first_year is not None:
            # R7: its pre-reform values were measured against what it says now.
            ensure_year_writable(first_year, history_import=history_import, field="indicator")
    else:
        project = _locked_project_for_results(actor, project, history_import=history_import)
    if isinstance(intended_result, str | IntendedResult):
        [intended_result] = resolve_intended_results([intended_result], field="intended_result")
    else:
        intended_result = ensure_instance(
            intended_result, IntendedResult, rule="R13", field="intended_result"
        )
    name = ensure_text(name, field="name", max_length=250, required=True)
    unit = ensure_text(unit, field="unit", max_length=50, required=True)
    baseline = ensure_number(baseline, field="baseline")
    target = ensure_number(target, field="target")
    if not project.intended_results.filter(pk=intended_result.pk).exists():
        raise FundRuleError(
            "R13",
            _("The project does not serve '%(result)s'; link the project to it first."),
            field="intended_result",
            params={"result": intended_result},
        )
    indicator = indicator or Indicator()
    if indicator.pk and (indicator.name, indicator.unit) != (name, unit):
        indicator.changed_at = timezone.now()  # R11: published texts changed since clearance
    indicator.project = project
    indicator.intended_result = intended_result
    indicator.name = name
    indicator.unit = unit
    indicator.baseline = baseline
    indicator.target = target
    save_validated(indicator, actor)
    return indicator


@service
def indicator_delete(*, actor, indicator: Indicator, history_import: bool = False) -> None:
    """Remove an indicator and its reported values; none of them may lie before the reform
    (R7, R13)."""
    indicator = _locked_indicator(actor, indicator, history_import=history_import)
    for year in indicator.values.values_list("year", flat=True):
        ensure_year_writable(year, history_import=history_import, field="indicator")
    for reported in indicator.values.all():
        reported._history_user = actor
        reported.delete()
    indicator._history_user = actor
    indicator.delete()


def _checked_report_year(indicator: Indicator, year, *, history_import: bool) -> int:
    """R13: a value is reported for a whole year the project runs in; R7: not before 2026."""
    year = ensure_year(year, rule="R13", field="year")
    project = indicator.project
    if not project.start_date.year <= year <= project.end_date.year:
        raise FundRuleError(
            "R13",
            _("%(year)s is outside the project period %(start)s–%(end)s."),
            field="year",
            params={
                "year": year,
                "start": project.start_date.year,
                "end": project.end_date.year,
            },
        )
    ensure_year_writable(year, history_import=history_import, field="year")
    return year


@service
def indicator_value_set(
    *, actor, indicator: Indicator, year: int, value, note: str = "", history_import=False
) -> IndicatorValue:
    """R13: a reported value per year the project runs in.

    Locks the post, so two writers of the same year queue: the second updates the first's row.
    """
    indicator = _locked_indicator(actor, indicator, history_import=history_import)
    year = _checked_report_year(indicator, year, history_import=history_import)
    value = ensure_number(value, field="value")
    note = ensure_text(note, field="note")
    reported = IndicatorValue.objects.filter(indicator=indicator, year=year).first()
    reported = reported or IndicatorValue(indicator=indicator, year=year)
    reported.value = value
    reported.note = note
    save_validated(reported, actor)
    return reported


@service
def indicator_value_delete(
    *, actor, indicator: Indicator, year: int, history_import: bool = False
) -> None:
    """Withdraw the value reported for a year (R7: not for a year before the reform)."""
    indicator = _locked_indicator(actor, indicator, history_import=history_import)
    year = ensure_year(year, rule="R13", field="year")
    ensure_year_writable(year, history_import=history_import, field="year")
    for reported in IndicatorValue.objects.filter(indicator=indicator, year=year):
        reported._history_user = actor
        reported.delete()
