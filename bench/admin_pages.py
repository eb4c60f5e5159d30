"""Benchmark: the ministry's busiest admin pages at 100 000 projects on PostgreSQL.

Times, in one run, the project list without a search (the baseline), the project search
(trigram indexes), the money overview sorted by a computed column, the fund-year dashboard,
the selection page, the partners and the read log, as a superuser through Django's test client
(in-process: no network, a persistent connection, DEBUG off). Prints the median and p95 of
each, each page's ratio to the baseline, and — every page also served without the read log's
middlewares, round by round in turn — the read log's cost per page (with/without).

    .venv/bin/python bench/api.py --setup          # once: the mrf_bench_api database
    .venv/bin/python bench/admin_pages.py [--rounds 20] [--database-url postgres://…]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = [
    ("project list (baseline)", "/admin/grants/project/"),
    ("project search, common word", "/admin/grants/project/?q=synthetisch"),
    ("project search, rare word", "/admin/grants/project/?q=meerjarig"),
    ("project search, no match", "/admin/grants/project/?q=zzzyx"),
    ("money overview by remaining", "/admin/grants/moneyoverview/?o=-7"),
    ("dashboard 2026", "/admin/dashboard/?year=2026"),
    ("selection page", "/admin/countries/participation/"),
    ("partners", "/admin/grants/partner/"),
    ("read log", "/admin/readlog/read/"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/mrf_bench_api",
    )
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_CONN_MAX_AGE="60",
        DJANGO_LOG_LEVEL="WARNING",
    )
    static_root = tempfile.mkdtemp(prefix="mrf-bench-static-")
    os.environ["DJANGO_STATIC_ROOT"] = static_root
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    # With DEBUG off the pages name their static files by the manifest collectstatic writes.
    call_command("collectstatic", interactive=False, verbosity=0)

    from grants.models import Project

    user = get_user_model().objects.filter(is_superuser=True, is_active=True).first()
    if user is None:
        sys.exit("No superuser in the database: run bench/api.py --setup first.")
    from django.conf import settings
    from django.test import override_settings

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    # The same pages without the read log: a client whose middleware chain is built (at its
    # first request) without the read log's two middlewares.
    without = [m for m in settings.MIDDLEWARE if not m.startswith("readlog.")]
    bare = Client(HTTP_HOST="localhost")
    bare.force_login(user)
    with override_settings(MIDDLEWARE=without):
        bare.get(PAGES[0][1])
    print(f"{Project.objects.count():,} projects; {args.rounds} rounds per page, median / p95")
    results = {}
    for name, url in PAGES:
        for each in (client, bare):
            response = each.get(url)  # warm-up (and a check)
            if response.status_code != 200:
                sys.exit(f"{url} answered {response.status_code}")
        times, bare_times = [], []
        for number in range(args.rounds):
            pair = ((client, times), (bare, bare_times))
            for each, into in pair if number % 2 else pair[::-1]:  # neither always first
                started = time.perf_counter()
                each.get(url)
                into.append((time.perf_counter() - started) * 1000)
        times.sort()
        results[name] = (
            statistics.median(times),
            times[int(len(times) * 0.95) - 1],
            statistics.median(bare_times),
        )
    baseline = results[PAGES[0][0]][0]
    print(f"{'page':32} {'median':>11} {'p95':>11}  {'×list':>6}  {'without read log':>17}"
          f"  {'with/without':>12}")  # fmt: skip
    for name, (median, p95, bare_median) in results.items():
        print(f"{name:32} {median:8.1f} ms {p95:8.1f} ms  ×{median / baseline:5.2f}  "
              f"{bare_median:14.1f} ms  {median / bare_median:12.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
