"""R11: a post's search for its own partner's name reaches the web server's access log as a
path only. A real gunicorn, started with the project's configuration, serves the requests."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=5).status
    except urllib.error.HTTPError as error:
        return error.code


def test_query_strings_stay_out_of_the_access_log_R11(tmp_path):
    port = free_port()
    log = tmp_path / "access.log"
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": str(log),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                get(f"{base}/api/v1/")
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(
            f"{base}/api/v1/partners/?search=Stichting+Geheime+Stem&ordering=name",
            headers={"Referer": f"{base}/admin/grants/partner/?q=Geheime+Stem"},
        )
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError as error:
            assert error.code == 401  # no credentials: refused, but logged
        for _ in range(50):
            if "/api/v1/partners/" in log.read_text(errors="replace"):
                break
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert '"GET /api/v1/partners/ HTTP/1.1" 401' in text, text
    assert "Geheime" not in text and "search=" not in text, text
