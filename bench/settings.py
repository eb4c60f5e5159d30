"""Settings for bench/api.py: the project's settings with the benchmark's root URLconf."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
