"""Benchmark: the ministry's busiest admin pages at 100 000 projects on PostgreSQL.

Times, in one run, the project list without a search (the baseline), the project search
(trigram indexes), the money overview sorted by a computed column, the fund-year dashboard,
the selection page, the partners and the read log, as a superuser through Django's test client
(in-process: no network, a persistent connection, DEBUG off). Prints the median and p95 of
each, each page's ratio to the baseline, and — every page also served without the read log's
middleware, round by round in turn — the read log's cost per page (with/without).

    .venv/bin/python bench/api.py --setup          # once: the mrf_bench_api database
    .venv/bin/python bench/admin_pages.py [--rounds 20] [--database-url postgres://…]
    .venv/bin/python bench/admin_pages.py --servers [--rounds 40]

With `--servers`, the read log's cost is measured as production serves the pages instead: one
gunicorn server (one sync worker, DEBUG off, Redis cache) asked for each page in turn with the
read log and, by a header only the benchmark's settings honour, without it (bench/switch.py):
one process serves both, so neither heap, processor nor connection differs.
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
    ("selection page", "/admin/countries/participation/"),  # the newest year's
    ("selection page, all years", "/admin/countries/participation/?fund_year=all"),
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
    parser.add_argument(
        "--servers", action="store_true",
        help="Only the read log's cost, per page, between two real servers (with/without).",
    )  # fmt: skip
    parser.add_argument("--only", default="", help="Only the pages whose name contains this.")
    args = parser.parse_args()
    PAGES[:] = [page for page in PAGES if args.only in page[0]] or sys.exit("No such page.")
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
    if args.servers:
        return readlog_cost_on_servers(args, client.cookies[settings.SESSION_COOKIE_NAME].value)
    # The same pages without the read log: a client whose middleware chain is built (at its
    # first request) without the read log's middleware.
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


def readlog_cost_on_servers(args, session_key: str) -> int:
    """Each page from one gunicorn server, twice in turn: with the read log and, asked by a
    header, without it (bench/switch.py), taking turns at going first; medians and ratio."""
    import http.client

    from django.conf import settings

    from bench.api import Database, Server, django_env

    env = django_env(
        Database.parse(args.database_url),
        DJANGO_SETTINGS_MODULE="bench.settings",
        BENCH_SWITCHABLE_READLOG="1",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=os.environ["DJANGO_SECRET_KEY"],
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_CONN_MAX_AGE="60",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_STATIC_ROOT=os.environ["DJANGO_STATIC_ROOT"],
        CELERY_BROKER_URL="redis://127.0.0.1:6379/14",
        CACHE_URL="redis://127.0.0.1:6379/13",
        EMAIL_URL="smtp://127.0.0.1:25",
        FUND_REPORT_RECIPIENTS="bench@example.org",
    )
    headers = {
        "with": {"Host": "localhost", "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"}
    }
    headers["without"] = {**headers["with"], "X-Bench-Without-Readlog": "1"}
    server = Server(env, 1, Path(tempfile.mkdtemp(prefix="mrf-bench-admin-")) / "gunicorn.log")

    def fetch(connection, label: str, url: str) -> tuple[int, float, float]:
        started = time.perf_counter()
        connection.request("GET", url, headers=headers[label])
        response = connection.getresponse()
        response.read()
        own = float(response.getheader("X-Bench-Readlog-Ms") or 0)
        return response.status, (time.perf_counter() - started) * 1000, own

    try:
        server.wait_healthy()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        print(f"The read log's cost per page: one gunicorn server (1 sync worker), each page "
              f"{args.rounds} times with and without the read log in turn, medians")  # fmt: skip
        print(f"{'page':32} {'with':>11} {'without':>11}  {'with/without':>12}"
              f"  {'own work':>10}  {'share':>6}")  # fmt: skip
        worst = worst_share = 0.0
        for name, url in PAGES:
            times: dict[str, list[float]] = {"with": [], "without": []}
            own: list[float] = []
            for label in times:
                for _warm_up in range(2):
                    status, _ms, _own = fetch(connection, label, url)
                    if status != 200:
                        sys.exit(f"{url} answered {status} ({label} the read log)")
            for number in range(args.rounds):
                order = ("with", "without") if number % 2 else ("without", "with")
                for label in order:
                    _status, took, own_ms = fetch(connection, label, url)
                    times[label].append(took)
                    if label == "with":
                        own.append(own_ms)
            with_ms = statistics.median(times["with"])
            without_ms = statistics.median(times["without"])
            own_ms = statistics.median(own)
            worst = max(worst, with_ms / without_ms)
            worst_share = max(worst_share, own_ms / without_ms)
            print(f"{name:32} {with_ms:8.1f} ms {without_ms:8.1f} ms  "
                  f"{with_ms / without_ms:12.3f}  {own_ms:7.2f} ms  "
                  f"{own_ms / without_ms:6.1%}")  # fmt: skip
        print(f"worst page: {worst:.3f} with/without; the read log's own work at most "
              f"{worst_share:.1%} of a page (target: at most 5 %)")  # fmt: skip
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
