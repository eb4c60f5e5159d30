"""Benchmark (R11, no existence by timing): naming another post's partner in a project body
against naming an id that does not exist, on the `mrf_bench_api` database.

An embassy editor POSTs the same project body to /api/v1/projects/, alternately naming a
partner of another post and a random UUID, through Django's test client in one process (no
network, so the figures are the application's own). Both must answer the same 404 with the same
body; the script prints the median time of each and their ratio (1.0: the same cost). Before
the lookup was scoped to the caller's post the ratio was about 2.

    .venv/bin/python bench/api.py --setup --duration 1   # once: the mrf_bench_api database
    .venv/bin/python bench/existence_timing.py [--rounds 300]
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/mrf_bench_api",
    )
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="true",
        CELERY_BROKER_URL="memory://",
        API_USER_THROTTLE_RATE="100000000/minute",  # the throttle's 429 is not what is measured
    )
    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from grants.models import Partner

    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 404s are the point
    settings.ALLOWED_HOSTS = ["*"]
    editor = get_user_model().objects.get(username="embassy-demo-b01")
    other = Partner.objects.exclude(post__code="DEMO-B01").order_by("pk").first()
    client = APIClient()
    client.force_authenticate(editor)

    def body(partner_id):
        return {
            "partner": str(partner_id),
            "priority": "women_girls",
            "title": "Probe",
            "start_date": "2026-02-01",
            "end_date": "2026-12-31",
            "budget": [{"year": 2026, "amount": "1000.00"}],
        }

    def once(partner_id):
        started = time.perf_counter()
        response = client.post("/api/v1/projects/", body(partner_id), format="json")
        return time.perf_counter() - started, response

    answers = set()
    times = {"another post's partner": [], "unknown id": []}
    for _ in range(20):  # warm-up
        once(other.public_id), once(uuid.uuid4())
    for round_ in range(args.rounds):
        pair = [("another post's partner", other.public_id), ("unknown id", uuid.uuid4())]
        for label, partner_id in pair if round_ % 2 else pair[::-1]:  # alternate the order
            seconds, response = once(partner_id)
            times[label].append(seconds)
            answers.add((response.status_code, response.content))
    for label, values in times.items():
        print(f"{label:>24}: median {statistics.median(values) * 1000:.2f} ms")
    ratio = statistics.median(times["another post's partner"]) / statistics.median(
        times["unknown id"]
    )
    print(f"ratio another post's partner / unknown id: {ratio:.2f} (the same cost: 1.0)")
    print(f"distinct answers: {len(answers)} (the same answer: 1)")
    for status, content in sorted(answers):
        print(f"  {status}: {content[:120]!r}")
    return 0 if len(answers) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
