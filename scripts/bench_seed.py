"""Benchmark: project creation through the single-project service vs the bulk path.

Both paths check the same rules (R4–R7, R9, R11, R5 per batch). Prints projects per second
for each and their ratio, measured in one run against the configured database; all writes are
rolled back at the end. Usage:

    .venv/bin/python scripts/bench_seed.py [--single 200] [--bulk 20000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mrf_bench .venv/bin/python scripts/bench_seed.py
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")
if not os.environ.get("DATABASE_URL"):  # a fresh SQLite file, so the demo has its headroom
    Path("/tmp/mrf-bench.sqlite3").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = "sqlite:////tmp/mrf-bench.sqlite3"

import django

django.setup()

from decimal import Decimal  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from fund.access import system_actor  # noqa: E402
from grants import services  # noqa: E402
from grants.models import Partner, PlanPriority  # noqa: E402
from seeds import demo  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=200, help="projects via project_create")
    parser.add_argument("--bulk", type=int, default=20_000, help="projects via the bulk path")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    admin = system_actor("seed")
    demo.build_demo_world(actor=admin)
    post = (
        PlanPriority.objects.filter(plan__fund_year__year=2026, plan__post__code="DEMO-B02")
        .select_related("plan__post", "priority")
        .first()
    )
    partner = Partner.objects.filter(post=post.plan.post).first()
    amount = Decimal("1.00")

    try:
        with transaction.atomic():
            started = time.perf_counter()
            for n in range(args.single):
                services.project_create(
                    actor=admin,
                    post=post.plan.post,
                    partner=partner,
                    priority=post.priority,
                    title=f"single {n}",
                    start_date=date(2026, 1, 1),
                    end_date=date(2026, 12, 31),
                    budget={2026: amount},
                )
            single_rate = args.single / (time.perf_counter() - started)

            started = time.perf_counter()
            demo.add_synthetic_projects(actor=admin, count=args.bulk)
            bulk_rate = args.bulk / (time.perf_counter() - started)
            raise Rollback
    except Rollback:
        pass

    print(f"database:          {connection.vendor}")
    print(f"project_create:    {single_rate:10,.0f} projects/s  ({args.single} projects)")
    print(f"bulk (seed scale): {bulk_rate:10,.0f} projects/s  ({args.bulk} projects)")
    print(f"ratio bulk/single: {bulk_rate / single_rate:10.1f}x")
    print(f"100 000 projects:  {100_000 / bulk_rate:10.0f} s estimated via the bulk path")


if __name__ == "__main__":
    main()
