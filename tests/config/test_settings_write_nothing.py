"""Reading the settings creates no folder and writes no file (issue: settings at import), also
with the development broker, whose folders Celery makes when it first needs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, os, pathlib, sys
made = []
real_mkdir, real_makedirs, real_open = pathlib.Path.mkdir, os.makedirs, open
pathlib.Path.mkdir = lambda self, *a, **k: made.append(str(self))
os.mkdir = lambda path, *a, **k: made.append(str(path))
os.makedirs = lambda path, *a, **k: made.append(str(path))
import builtins
def watching_open(file, mode="r", *a, **k):
    if any(flag in mode for flag in "wax+"):
        made.append(str(file))
    return real_open(file, mode, *a, **k)
builtins.open = watching_open
import config.settings as settings
print(json.dumps({"made": made, "broker": settings.CELERY_BROKER_URL,
                  "folder": settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]}))
"""


def run_probe():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "DATABASE_"))
    }
    env.update(DJANGO_DEBUG="true", DJANGO_SECRET_KEY="probe")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_reading_the_settings_creates_nothing():
    probe = run_probe()
    assert probe["broker"] == "filesystem://"  # the development broker, with folders...
    assert probe["made"] == []  # ...that reading the settings does not make


def test_celery_makes_the_development_broker_folders_when_it_needs_them(tmp_path, settings):
    from config.celery import app, make_embedded_broker_folders

    folders = {key: str(tmp_path / key) for key in ("data_folder_in", "processed_folder")}
    conf = app.conf
    before = conf.broker_url, conf.broker_transport_options
    conf.broker_url, conf.broker_transport_options = "filesystem://", folders
    try:
        make_embedded_broker_folders()
    finally:
        conf.broker_url, conf.broker_transport_options = before
    assert all(Path(folder).is_dir() for folder in folders.values())
