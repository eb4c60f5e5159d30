"""Benchmark: the IATI 2.03 export at 100 000 projects on PostgreSQL, attacker included.

Writes (and validates, and lets the attacker of reports.iati.attacker read) the whole file on
the `mrf_bench_api` database and prints the time — split into writing, schema validation and
the attacker — the file's size and activities per policy outcome, the number of queries, and
the process's peak memory against a run over a tenth of the projects (the --year of the
smaller fund year would not do: nearly every demo project has money in 2026). Memory that does
not grow with the projects is what streaming promises; the query count must be the same in
both runs. The attacker reads the file alone (no earlier export is kept in that database).

With --first-export, what earlier exports kept (the published activities' starts and
regions, the region cells) is removed from the benchmark's database before each run, so each
is a first export: it also puts aside a row per newly published activity and stores them.

    .venv/bin/python bench/api.py --setup --duration 2   # once: the mrf_bench_api database
    .venv/bin/python bench/iati.py [--first-export]
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/mrf_bench_api",
    )
    parser.add_argument(
        "--first-export",
        action="store_true",
        help="Remove what earlier exports kept before each run (the benchmark's database only).",
    )
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + "x" * 50,
        CELERY_BROKER_URL="memory://",
    )
    import django

    django.setup()
    from django.db import connection

    from grants.models import Project
    from reports.iati import attacker, export

    spent, peaks = {}, {}

    def timed(name, function):
        def run(*args, **kwargs):
            peaks[f"before {name}"] = peak_rss_mb()
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0) + time.perf_counter() - started

        return run

    export.validate = timed("validate", export.validate)
    attacker.check_files = timed("attacker", attacker.check_files)

    total = Project.objects.count()
    cutoff = Project.objects.order_by("pk").values_list("pk", flat=True)[total // 10]

    def run(label, scope_cutoff=None):
        original = export._scoped

        def scoped(queryset, project_field, year):
            queryset = original(queryset, project_field, year)
            if scope_cutoff is not None:
                queryset = queryset.filter(**{f"{project_field}__lt": scope_cutoff})
            return queryset

        export._scoped = scoped
        if args.first_export:
            from reports.models import IatiKeptActivity, IatiRegionCell

            tables = [model._meta.db_table for model in (IatiKeptActivity, IatiRegionCell)]
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {', '.join(tables)}")
        try:
            with tempfile.TemporaryDirectory() as directory:
                path = Path(directory) / "iati.xml"
                before = peak_rss_mb()
                spent.clear()
                started = time.perf_counter()
                # Counted, not kept: the first export's bulk inserts would be megabytes of SQL.
                queries = []

                def count(execute, sql, params, many, context):
                    queries.append(None)
                    return execute(sql, params, many, context)

                with connection.execute_wrapper(count):
                    counts = export.write_export(path)
                seconds = time.perf_counter() - started
                size = path.stat().st_size
        finally:
            export._scoped = original
        activities = counts["full"] + counts["reduced"]
        print(
            f"{label:>14}: {seconds:6.1f} s  {activities:,} activities "
            f"(full {counts['full']:,}, reduced {counts['reduced']:,}, "
            f"held back {counts['withheld']:,}, left out {counts['excluded']:,}); "
            f"{size / 1e6:.0f} MB; {len(queries)} queries; "
            f"peak RSS {peak_rss_mb():.0f} MB (+{peak_rss_mb() - before:.0f})\n"
            f"{'':>16}writing {seconds - sum(spent.values()):.1f} s, validation "
            f"{spent.get('validate', 0):.1f} s, attacker {spent.get('attacker', 0):.1f} s "
            f"(smallest anonymity set {counts.smallest_anonymity_set})\n"
            f"{'':>16}peak RSS when writing was done {peaks['before validate']:.0f} MB, "
            f"when validation was done {peaks['before attacker']:.0f} MB"
        )
        return seconds

    print(f"{total:,} projects in the database; writing and validating the whole file")
    small = run("a tenth", cutoff)
    large = run("all projects")
    print(f"time ratio all / a tenth: {large / small:.1f} (linear: 10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
