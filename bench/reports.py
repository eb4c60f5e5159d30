"""Benchmark: the weekly fund summary at 100 000 projects on PostgreSQL, against one
hand-written SQL aggregate over the same tables, in the same run.

The summary (reports.services.summary) is what the weekly report computes: money per
priority and per post, plans by status, overdue plans and warnings. It is measured against
two single hand-written SQL statements over the same tables, in the same run:

- the *full* baseline computes every figure the summary needs from the project tables: money
  per post and priority by status (which gives the per-post and per-priority tables and the R4
  warning), payments, plan splits, and the R9 fragmentation count over each project's total
  across all its years. Same work, no ORM and no Python: the ratio to the target.
- the *main-table* baseline only sums allocations, plan splits, project money and payments per
  post (the report's main table; the first baseline this script used), for comparison.

Prints the median of each (persistent connection) and the ratios. Targets: at most 1.5 ×
(against the full baseline) and under 3 s.

    .venv/bin/python bench/api.py --setup          # once: the mrf_bench_api database
    .venv/bin/python bench/reports.py [--rounds 10] [--year 2026]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BASELINE_SQL = """
WITH lines AS (
    SELECT pr.post_id,
           SUM(bl.amount) FILTER (WHERE pr.status = 'planned') AS planned,
           SUM(bl.amount) FILTER (WHERE pr.status IN ('active', 'completed')) AS committed
    FROM grants_budgetline bl JOIN grants_project pr ON pr.id = bl.project_id
    WHERE bl.year = %(year)s GROUP BY pr.post_id
), paid AS (
    SELECT pr.post_id, SUM(d.amount) AS disbursed
    FROM grants_disbursement d JOIN grants_project pr ON pr.id = d.project_id
    WHERE d.date >= make_date(%(year)s, 1, 1) AND d.date < make_date(%(year)s + 1, 1, 1)
    GROUP BY pr.post_id
), split AS (
    SELECT p.post_id, SUM(pp.amount) AS in_plan
    FROM grants_planpriority pp JOIN grants_annualplan p ON p.id = pp.plan_id
    WHERE p.fund_year_id = %(fund_year)s GROUP BY p.post_id
)
SELECT a.post_id, a.amount, split.in_plan, lines.planned, lines.committed, paid.disbursed
FROM grants_allocation a
LEFT JOIN split ON split.post_id = a.post_id
LEFT JOIN lines ON lines.post_id = a.post_id
LEFT JOIN paid ON paid.post_id = a.post_id
WHERE a.fund_year_id = %(fund_year)s
"""

FULL_SQL = """
WITH lines AS (
    SELECT pr.post_id, pr.priority_id, pr.status,
           SUM(bl.amount) AS amount, COUNT(*) AS projects
    FROM grants_budgetline bl JOIN grants_project pr ON pr.id = bl.project_id
    WHERE bl.year = %(year)s AND pr.status IN ('planned', 'active', 'completed')
    GROUP BY pr.post_id, pr.priority_id, pr.status
), paid AS (
    SELECT pr.post_id, pr.priority_id, SUM(d.amount) AS disbursed
    FROM grants_disbursement d JOIN grants_project pr ON pr.id = d.project_id
    WHERE d.date >= make_date(%(year)s, 1, 1) AND d.date < make_date(%(year)s + 1, 1, 1)
    GROUP BY pr.post_id, pr.priority_id
), split AS (
    SELECT p.post_id, pp.priority_id, SUM(pp.amount) AS in_plan
    FROM grants_planpriority pp JOIN grants_annualplan p ON p.id = pp.plan_id
    WHERE p.fund_year_id = %(fund_year)s GROUP BY p.post_id, pp.priority_id
), project_totals AS (
    SELECT bl.project_id, SUM(bl.amount) AS total
    FROM grants_budgetline bl JOIN grants_project pr ON pr.id = bl.project_id
    WHERE pr.status IN ('planned', 'active', 'completed')
    GROUP BY bl.project_id HAVING COUNT(*) FILTER (WHERE bl.year = %(year)s) > 0
), fragmentation AS (
    SELECT COUNT(*) AS projects, COUNT(*) FILTER (WHERE total < %(minimum)s) AS small
    FROM project_totals
)
SELECT 'lines', post_id, priority_id, status, amount, projects FROM lines
UNION ALL SELECT 'paid', post_id, priority_id, NULL, disbursed, NULL FROM paid
UNION ALL SELECT 'split', post_id, priority_id, NULL, in_plan, NULL FROM split
UNION ALL SELECT 'fragmentation', NULL, NULL, NULL, small, projects FROM fragmentation
"""


def timed(function, rounds):
    function()  # warm-up
    times = []
    for _round in range(rounds):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/mrf_bench_api",
    )
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--year", type=int, default=2026)
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + "x" * 50,
        DJANGO_CONN_MAX_AGE="60",
        CELERY_BROKER_URL="memory://",
    )
    import django

    django.setup()
    from django.db import connection

    from grants.models import FundYear, Project
    from reports.services import summary

    fund_year = FundYear.objects.get(year=args.year)

    parameters = {
        "year": args.year,
        "fund_year": fund_year.pk,
        "minimum": fund_year.min_project_size,
    }

    def run(sql):
        def query():
            with connection.cursor() as cursor:
                cursor.execute(sql, parameters)
                return cursor.fetchall()

        return query

    report_median, report_max = timed(lambda: summary(fund_year), args.rounds)
    full_median, full_max = timed(run(FULL_SQL), args.rounds)
    main_median, main_max = timed(run(BASELINE_SQL), args.rounds)
    print(f"{Project.objects.count():,} projects; fund year {args.year}; {args.rounds} rounds")
    print(
        f"weekly summary (reports.services.summary) {report_median:8.1f} ms  max {report_max:.1f}"
    )
    print(f"full baseline (one SQL, same figures)     {full_median:8.1f} ms  max {full_max:.1f}")
    print(f"main-table baseline (one SQL)             {main_median:8.1f} ms  max {main_max:.1f}")
    print(
        f"ratio summary/full baseline: {report_median / full_median:.2f} "
        f"(target ≤ 1.5; summary < 3 s: {'yes' if report_median < 3000 else 'NO'})"
    )
    print(f"ratio summary/main-table baseline: {report_median / main_median:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
