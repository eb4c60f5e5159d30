"""Report services: what a weekly, monthly or yearly results report says, computed with
grouped queries (a constant number however many projects), stored once per period, and
e-mailed once. Partner names never appear (R11): reports speak of posts and priorities."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from countries.models import Post
from fund.checks import ZERO
from fund.text import printable
from grants.cycles import PLAN_CYCLE
from grants.models import FundYear, Indicator, IndicatorValue
from grants.selectors import fragmentation, fund_year_dashboard

from .mail import queue_report_mails
from .models import Report, ReportKind, ReportStatus

HEADLINE = ("allocated", "in_plan", "planned", "committed", "disbursed", "remaining")


# --- Periods -----------------------------------------------------------------------------------


def default_period(kind: str, today: date | None = None) -> str:
    """The period a scheduled run reports on: the week or month just ended; for results,
    the current fund year."""
    today = today or timezone.localdate()
    if kind == ReportKind.WEEKLY:
        year, week, _day = (today - timedelta(days=7)).isocalendar()
        return f"{year}-W{week:02d}"
    if kind == ReportKind.MONTHLY:
        last = today.replace(day=1) - timedelta(days=1)
        return f"{last.year}-{last.month:02d}"
    if kind == ReportKind.REMINDER:
        return today.isoformat()
    return str(today.year)


def previous_period(kind: str, period: str) -> str | None:
    """The period just before this one, which "since the previous report" compares with;
    None for the daily reminder (it has no figures to compare) or a period not of the kind's
    form."""
    try:
        if kind == ReportKind.WEEKLY:
            year, week = period.split("-W")
            monday = date.fromisocalendar(int(year), int(week), 1) - timedelta(days=7)
            year, week, _day = monday.isocalendar()
            return f"{year}-W{week:02d}"
        if kind == ReportKind.MONTHLY:
            first = date.fromisoformat(f"{period}-01")
            last = first - timedelta(days=1)
            return f"{last.year}-{last.month:02d}"
        if kind == ReportKind.RESULTS:
            return str(int(period) - 1)
    except ValueError:
        return None
    return None


def period_year(period: str) -> int:
    return int(period[:4])


def fund_year_for(period: str) -> FundYear | None:
    """The fund year a period belongs to (or the newest one before it)."""
    return FundYear.objects.filter(year__lte=period_year(period)).order_by("-year").first()


# --- Content --------------------------------------------------------------------------------


def _money(value) -> str:
    return f"{(value or ZERO):.2f}"


def summary(fund_year: FundYear) -> dict:
    """Weekly and monthly content (R5, R9, R10): money per priority and per post with the
    share executed, plans by status, overdue plans and warnings."""
    board = fund_year_dashboard(fund_year)
    money = board["money"]
    off_plan = {  # R4: planned or active projects on a priority the post's plan does not choose
        pair: count for pair, count in money.projects_in_use.items() if pair not in money.in_plan
    }
    posts = {post for post, _priority in off_plan}
    codes = dict(Post.objects.filter(pk__in=posts).values_list("pk", "code"))
    warnings = []
    for row in board["per_post"]:
        spent = row.planned + row.committed
        if row.amount and spent > row.amount:
            warnings.append(
                _("%(post)s: projects exceed the allocation (R5).") % {"post": row.post.code}
            )
        elif row.amount and spent > row.amount * Decimal("0.9"):
            warnings.append(
                _("%(post)s: more than 90%% of the allocation is used.") % {"post": row.post.code}
            )
    for (post, _priority), count in sorted(off_plan.items(), key=lambda item: codes[item[0][0]]):
        warnings.append(
            _("%(post)s: %(count)s project(s) on a priority the plan does not choose (R4).")
            % {"post": codes[post], "count": count}
        )
    small = fragmentation(fund_year)
    if small["below_threshold"]:
        warnings.append(
            _("%(small)s of %(total)s projects are below the minimum size (R9).")
            % {"small": small["below_threshold"], "total": small["projects"]}
        )
    totals = board["totals"]
    return {
        "fund_year": fund_year.year,
        "headline": {
            "allocated": _money(totals["amount"]),
            "in_plan": _money(totals["in_plan"]),
            "planned": _money(totals["planned"]),
            "committed": _money(totals["committed"]),
            "disbursed": _money(totals["disbursed"]),
            "remaining": _money(totals["remaining"]),
            "overdue_plans": len(board["overdue_plans"]) + len(board["posts_without_plan"]),
        },
        "per_priority": [
            {
                "priority": str(row["priority"]),
                **{key: _money(row[key]) for key in ("in_plan", "planned", "committed")},
                "disbursed": _money(row["disbursed"]),
            }
            for row in board["per_priority"]
        ],
        "per_post": [
            {
                "post": row.post.code,
                "allocated": _money(row.amount),
                "in_plan": _money(row.in_plan),
                "planned": _money(row.planned),
                "committed": _money(row.committed),
                "disbursed": _money(row.disbursed),
                "remaining": _money(row.remaining),
                "executed_pct": f"{(row.disbursed / row.amount * 100):.1f}" if row.amount else "",
            }
            for row in board["per_post"]
        ],
        "plans_by_status": [
            {"status": str(row["label"]), "count": row["count"]} for row in board["plans_by_status"]
        ],
        "overdue": [plan.post.code for plan in board["overdue_plans"]]
        + [p.post.code for p in board["posts_without_plan"]],
        "warnings": warnings,
    }


def results(year: int) -> dict:
    """Yearly results content (R13): per priority and intended result, each indicator with
    its baseline, target and the value reported for the year, per post."""
    values = dict(IndicatorValue.objects.filter(year=year).values_list("indicator", "value"))
    rows = (
        Indicator.objects.filter(project__budget_lines__year=year)
        .distinct()
        .order_by(
            "intended_result__priority__position", "intended_result__position", "project__post"
        )
        .values(
            "pk",
            "intended_result__priority__name_nl",
            "intended_result__code",
            "project__post__code",
            "name",
            "unit",
            "baseline",
            "target",
        )
    )
    return {
        "fund_year": year,
        "headline": {"indicators": len(rows), "reported": len(values)},
        "results": [
            {
                "priority": row["intended_result__priority__name_nl"],
                "intended_result": row["intended_result__code"],
                "post": row["project__post__code"],
                "indicator": row["name"],
                "unit": row["unit"],
                "baseline": _money(row["baseline"]),
                "target": _money(row["target"]),
                "value": _money(values[row["pk"]]) if row["pk"] in values else "",
            }
            for row in rows
        ],
    }


REMINDER_DAYS = 14


def plan_reminders(today: date) -> dict:
    """R10: the posts whose annual plan is due within 14 days, or overdue, and not with the
    ministry (a draft, returned or amending plan, or none yet): current and next years only;
    likewise their annual reports (grants.selectors.annual_report_reminders)."""
    from grants.models import AnnualPlan
    from grants.selectors import annual_report_reminders, documents_due

    fund_years = FundYear.objects.filter(
        year__gte=today.year,
        plan_submission_deadline__lte=today + timedelta(days=REMINDER_DAYS),
    )
    rows = documents_due(
        fund_years,
        model=AnnualPlan,
        deadline="plan_submission_deadline",
        open_statuses=PLAN_CYCLE.editable,
        today=today,
        document="annual_plan",
    )
    # The annual report rides on the same daily reminder (R10).
    rows += annual_report_reminders(today, within_days=REMINDER_DAYS)
    return {"headline": {"posts": len(rows)}, "reminders": rows}


def changes_since(previous: Report | None, data: dict) -> dict:
    """The headline's change since the report of the previous period (none without one)."""
    if previous is None:
        return {}
    before = previous.data.get("headline", {})
    return {
        key: str(Decimal(str(data["headline"][key])) - Decimal(str(before[key])))
        for key in data["headline"]
        if key in before
    }


# --- Files ------------------------------------------------------------------------------------


SHEETS = {
    "per_priority": ("priority", "in_plan", "planned", "committed", "disbursed"),
    "per_post": (
        "post", "allocated", "in_plan", "planned", "committed", "disbursed", "remaining",
        "executed_pct",
    ),
    "plans_by_status": ("status", "count"),
    "results": (
        "priority", "intended_result", "post", "indicator", "unit", "baseline", "target", "value",
    ),
    "reminders": ("post", "fund_year", "deadline", "status", "overdue"),
}  # fmt: skip
MONEY_COLUMNS = {"allocated", "in_plan", "planned", "committed", "disbursed", "remaining"}
# What a reader of the files sees: sheets, columns and figures by name, in the ministry's
# language (the report's data, kept as JSON, keep their keys).
TITLES = {
    "summary": gettext_lazy("Summary"),
    "per_priority": gettext_lazy("Per priority"),
    "per_post": gettext_lazy("Per post"),
    "plans_by_status": gettext_lazy("Plans by status"),
    "results": gettext_lazy("Results"),
    "reminders": gettext_lazy("Reminders"),
    "figure": gettext_lazy("Figure"),
    "value": gettext_lazy("Value"),
    "taken_at": gettext_lazy("Figures taken at"),
    "warning": gettext_lazy("Warning"),
    "priority": gettext_lazy("Priority"),
    "in_plan": gettext_lazy("In the plans"),
    "planned": gettext_lazy("Planned"),
    "committed": gettext_lazy("Committed"),
    "disbursed": gettext_lazy("Disbursed"),
    "post": gettext_lazy("Post"),
    "allocated": gettext_lazy("Allocated"),
    "remaining": gettext_lazy("Remaining"),
    "executed_pct": gettext_lazy("Share disbursed"),
    "executed_pct_csv": gettext_lazy("Share disbursed (%)"),
    "status": gettext_lazy("Status"),
    "count": gettext_lazy("Number"),
    "intended_result": gettext_lazy("Intended result"),
    "indicator": gettext_lazy("Indicator"),
    "unit": gettext_lazy("Unit"),
    "baseline": gettext_lazy("Baseline"),
    "target": gettext_lazy("Target"),
    "fund_year": gettext_lazy("Fund year"),
    "deadline": gettext_lazy("Deadline"),
    "overdue": gettext_lazy("Overdue"),
    "overdue_plans": gettext_lazy("Plans overdue"),
    "indicators": gettext_lazy("Indicators"),
    "reported": gettext_lazy("Values reported"),
    "posts": gettext_lazy("Posts"),
}


def title(key: str) -> str:
    return str(TITLES.get(key, key))


def to_xlsx(data: dict) -> bytes:
    """A sheet per view, a frozen header row, money as euros, a share as a percentage;
    named in the ministry's language whatever the language of the worker that makes it."""
    with translation.override(settings.LANGUAGE_CODE):
        return _to_xlsx(data)


def _to_xlsx(data: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    first.title = title("summary")
    first.append([title("figure"), title("value")])
    if data.get("taken_at"):
        first.append([title("taken_at"), data["taken_at"]])
    for key, value in data.get("headline", {}).items():
        first.append([title(key), _number(key, value)])
    for key, value in data.get("changes", {}).items():
        first.append([_("Change: %(figure)s") % {"figure": title(key)}, _number(key, value)])
    for text in data.get("warnings", []):
        first.append([title("warning"), printable(text)])
    for name, columns in SHEETS.items():
        if name not in data:
            continue
        sheet = book.create_sheet(title(name))
        sheet.append([title(column) for column in columns])
        for row in data[name]:
            sheet.append([_cell(column, row) for column in columns])
        for index, column in enumerate(columns, start=1):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                if column in MONEY_COLUMNS and isinstance(cell.value, Decimal):
                    cell.number_format = '"€" #,##0.00'
                elif column == "executed_pct" and isinstance(cell.value, float):
                    cell.number_format = "0.0%"
    money_figures = {title(key) for key in MONEY_COLUMNS}
    for row in first.iter_rows(min_row=2):
        label, cell = row[0].value, row[1]
        if isinstance(cell.value, Decimal) and any(m in str(label) for m in money_figures):
            cell.number_format = '"€" #,##0.00'
    for sheet in book.worksheets:
        sheet.freeze_panes = "A2"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _cell(column: str, row: dict):
    """One cell: a share as a fraction (shown as a percentage), a status and a yes/no as
    words, anything else as the data have it."""
    value = row.get(column)
    if column == "executed_pct":
        return float(Decimal(value) / 100) if value not in (None, "") else None
    if column == "status" and value and "document" in row:
        from grants.cycles import AnnualReportStatus, PlanStatus

        choices = PlanStatus if row["document"] == "annual_plan" else AnnualReportStatus
        return str(dict(choices.choices).get(value, value))
    if column == "overdue" and isinstance(value, bool):
        return _("yes") if value else _("no")
    return _number(column, value)


def _number(column, value):
    if column in MONEY_COLUMNS and value not in (None, ""):
        return Decimal(str(value))
    if isinstance(value, str):  # one post's stray control character must not break the file
        return printable(value)
    return value


def to_csv(data: dict) -> str:
    """The report's main table, its header in the ministry's language (as the XLSX)."""
    name = next((n for n in ("results", "reminders") if n in data), "per_post")
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=SHEETS[name], extrasaction="ignore")
    with translation.override(settings.LANGUAGE_CODE):
        writer.writerow({c: title(f"{c}_csv" if c == "executed_pct" else c) for c in SHEETS[name]})
        for row in data.get(name, []):
            writer.writerow({column: _csv_cell(column, row) for column in SHEETS[name]})
    return output.getvalue()


def _csv_cell(column: str, row: dict):
    """As in the XLSX, but the share disbursed as the percentage it is (9.5, not 0.095)."""
    if column == "executed_pct":
        return row.get(column)
    value = _cell(column, row)
    return printable(value) if isinstance(value, str) else value


# --- Exactly once -----------------------------------------------------------------------------


def build_report(kind: str, period: str | None = None) -> tuple[Report, bool]:
    """Make the report of a kind for a period, once: returns (report, made now). A report
    that is done stays as it is; a failed one is made again (its reason kept until then)."""
    period = period or default_period(kind)
    try:
        with transaction.atomic():
            report, _created = Report.objects.get_or_create(kind=kind, period=period)
    except IntegrityError:  # a second beat made it at the same moment
        report = Report.objects.get(kind=kind, period=period)
    # The attempt is counted before it begins, in a transaction of its own: a build that
    # kills its worker (out of memory, a hard time limit) still counts towards the sweep's
    # maximum, instead of being tried for ever.
    Report.objects.filter(pk=report.pk).exclude(status=ReportStatus.DONE).update(
        attempts=F("attempts") + 1
    )
    try:
        with transaction.atomic():
            report = Report.objects.select_for_update().get(pk=report.pk)
            if report.status == ReportStatus.DONE:
                return report, False
            taken_at = timezone.now()
            data = _content(kind, period)
            # The moment the figures were taken: a report made late (caught up by the sweep,
            # or on request) says so instead of passing today's figures off as the period's.
            data["taken_at"] = taken_at.isoformat()
            previous = Report.objects.filter(
                kind=kind, period=previous_period(kind, period), status=ReportStatus.DONE
            ).first()
            data["previous_period"] = previous.period if previous else None
            data["changes"] = changes_since(previous, data)
            report.data = data
            report.fund_year = data.get("fund_year")
            report.xlsx = to_xlsx(data)
            report.csv = to_csv(data)
            report.status = ReportStatus.DONE
            report.failure_reason = ""
            report.finished_at = timezone.now()
            report.save()
            queue_report_mails(report)  # in this transaction: done means mailed
            return report, True
    except Exception as error:
        Report.objects.filter(pk=report.pk).exclude(status=ReportStatus.DONE).update(
            status=ReportStatus.FAILED,
            failure_reason=f"{type(error).__name__}: {error}"[:2000],
        )
        raise


def _content(kind: str, period: str) -> dict:
    if kind == ReportKind.RESULTS:
        return results(period_year(period))
    if kind == ReportKind.REMINDER:
        return plan_reminders(date.fromisoformat(period))
    fund_year = fund_year_for(period)
    if fund_year is None:
        return {"fund_year": None, "headline": {}, "warnings": [_("There is no fund year yet.")]}
    return summary(fund_year)


# --- Nothing scheduled is lost ------------------------------------------------------------------

MAKE_REPORT_TASK = "reports.tasks.make_report"
REPORT_MAX_ATTEMPTS = 10  # a report that failed this often waits for an operator


def past_fires(crontab, start: datetime, end: datetime) -> list[datetime]:
    """The moments a beat crontab fired (or should have) between start and end."""
    schedule = crontab.schedule
    zone = ZoneInfo(str(crontab.timezone))
    fires = []
    day = start.astimezone(zone).date()
    while day <= end.astimezone(zone).date():
        if (
            day.month in schedule.month_of_year
            and day.day in schedule.day_of_month
            and day.isoweekday() % 7 in schedule.day_of_week  # celery: Sunday is 0
        ):
            for hour in sorted(schedule.hour):
                for minute in sorted(schedule.minute):
                    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    if start <= moment <= end:
                        fires.append(moment)
        day += timedelta(days=1)
    return fires


def scheduled_periods(now: datetime | None = None) -> set[tuple[str, str]]:
    """(kind, period) of every report an enabled schedule was to make in the catch-up window
    (since the schedule was installed): a fire that beat could not hand to the broker is
    still owed. Of the daily reminder only today's: yesterday's reminder is stale news."""
    from django_celery_beat.models import PeriodicTask

    now = now or timezone.now()
    window = now - timedelta(days=settings.REPORT_CATCH_UP_DAYS)
    owed = set()
    tasks = PeriodicTask.objects.filter(
        enabled=True, task=MAKE_REPORT_TASK, crontab__isnull=False
    ).select_related("crontab")
    for task in tasks:
        try:
            args = json.loads(task.args or "[]")
        except ValueError:
            continue
        if len(args) != 1 or args[0] not in ReportKind.values:  # a fixed period: not a cadence
            continue
        kind = args[0]
        start = max(window, task.start_time) if task.start_time else window
        fires = past_fires(task.crontab, start, now)
        if kind == ReportKind.REMINDER:
            today = timezone.localdate(now)
            fires = [fire for fire in fires[-1:] if timezone.localdate(fire) == today]
        owed |= {(kind, default_period(kind, timezone.localdate(fire))) for fire in fires}
    return owed


def abandoned(report: Report) -> bool:
    """A report to (re)make: failed (fewer than the maximum times), or "being made" by nobody
    — on PostgreSQL its row is not locked by a living builder; elsewhere, or as a last
    resort, it has been "being made" for longer than the hard time limit."""
    if report.status == ReportStatus.FAILED:
        return report.attempts < REPORT_MAX_ATTEMPTS
    if report.status != ReportStatus.PENDING:
        return False
    if report.attempts >= REPORT_MAX_ATTEMPTS:
        return False
    overdue = report.created_at < timezone.now() - timedelta(seconds=settings.REPORT_TIME_LIMIT)
    if connection.vendor != "postgresql":  # no row locks to ask: only the age tells
        return overdue
    with transaction.atomic():
        unlocked = bool(Report.objects.select_for_update(skip_locked=True).filter(pk=report.pk)[:1])
    return unlocked or overdue


def reports_owed(now: datetime | None = None) -> list[tuple[str, str]]:
    """What the sweep makes: every owed period without a done report, and every report of the
    catch-up window that failed or was abandoned while being made."""
    now = now or timezone.now()
    window = now - timedelta(days=settings.REPORT_CATCH_UP_DAYS)
    owed = scheduled_periods(now)
    of_owed = Q(pk__in=[])
    for kind, period in owed:
        of_owed |= Q(kind=kind, period=period)
    unfinished = Q(created_at__gte=window) & ~Q(status=ReportStatus.DONE)
    existing = {
        (report.kind, report.period): report
        for report in Report.objects.filter(of_owed | unfinished).defer("xlsx", "csv", "data")
    }
    todo = {pair for pair in owed if pair not in existing}
    todo |= {pair for pair, report in existing.items() if abandoned(report)}
    return sorted(pair for pair in todo if not stale(*pair, now=now))


def stale(kind: str, period: str, *, now: datetime) -> bool:
    """A reminder of another day than today is stale news: never made or mailed late."""
    return kind == ReportKind.REMINDER and period != timezone.localdate(now).isoformat()


def reports_unmailed(now: datetime | None = None) -> list[int]:
    """Done reports of the catch-up window whose e-mails were never queued (finished by an
    earlier release while the mail server was away)."""
    now = now or timezone.now()
    window = now - timedelta(days=settings.REPORT_CATCH_UP_DAYS)
    rows = Report.objects.filter(
        status=ReportStatus.DONE, emailed_at__isnull=True, created_at__gte=window
    ).values_list("pk", "kind", "period")
    return [pk for pk, kind, period in rows if not stale(kind, period, now=now)]
