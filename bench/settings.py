"""Settings for bench/api.py: the project's settings with the benchmark's root URLconf.

BENCH_WITHOUT_READLOG=1 runs the server without the read log's middleware: the side-by-side
baseline of `bench/api.py --readlog-cost` (never a production setting: the read log is not
switchable in config.settings)."""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
if os.environ.get("BENCH_WITHOUT_READLOG"):
    MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("readlog.")]  # noqa: F405
if os.environ.get("BENCH_SWITCHABLE_READLOG"):
    # bench/switch.py: the read log on or off per request, in one process.
    _at = MIDDLEWARE.index("readlog.middleware.ReadLogMiddleware")
    MIDDLEWARE = [
        *MIDDLEWARE[:_at],
        "bench.switch.SwitchableReadLog",
        *[m for m in MIDDLEWARE[_at:] if not m.startswith("readlog.")],
    ]
