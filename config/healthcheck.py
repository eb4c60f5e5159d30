"""The container's health check: `python -m config.healthcheck [/health/ready/]`.

Asks this container's own gunicorn (GUNICORN_BIND's port) for a health page with the fund's
host name (the first of DJANGO_ALLOWED_HOSTS: any other Host is refused with 400, as it must
be) and exits 0 only on 200. Standard library only, so that it runs in a minimal image.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def check(path: str = "/health/") -> int:
    port = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").rsplit(":", 1)[-1]
    host = (os.environ.get("DJANGO_ALLOWED_HOSTS", "") or "localhost").split(",")[0].strip()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": host.lstrip(".")}
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        sys.stderr.write(f"unhealthy: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(check(*sys.argv[1:2]))
