#!/bin/sh
# Quick start on SQLite: virtual environment, install, migrate, demo data, development server,
# and a Celery worker and beat on an embedded broker.
# Usage: sh scripts/dev.sh [address:port]    (default 127.0.0.1:8000)
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
    exit 1
}
sh scripts/install.sh
# Development settings (DEBUG on, SQLite); production sets real environment variables.
[ -f .env ] || cp .env.example .env
.venv/bin/python manage.py migrate --no-input
.venv/bin/python manage.py seed_demo
# A Celery worker and beat beside the server, on the embedded broker (kombu's filesystem
# transport in .celery/, no service to install): e-mails and scheduled reports work here too.
mkdir -p .celery/queue .celery/processed .celery/control
.venv/bin/celery -A config worker --pool solo --queues mail,reports,exports --loglevel WARNING &
worker=$!
.venv/bin/celery -A config beat --loglevel WARNING \
  --scheduler django_celery_beat.schedulers:DatabaseScheduler &
beat=$!
trap 'kill "$worker" "$beat" 2>/dev/null' EXIT INT TERM
.venv/bin/python manage.py runserver "${1:-127.0.0.1:8000}"
