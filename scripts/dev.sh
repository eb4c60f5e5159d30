#!/bin/sh
# Quick start on SQLite: virtual environment, install, migrate, demo data, development server.
# Usage: sh scripts/dev.sh [address:port]    (default 127.0.0.1:8000)
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
    exit 1
}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# Development settings (DEBUG on, SQLite); production sets real environment variables.
[ -f .env ] || cp .env.example .env
.venv/bin/python manage.py migrate --no-input
.venv/bin/python manage.py seed_demo
exec .venv/bin/python manage.py runserver "${1:-127.0.0.1:8000}"
