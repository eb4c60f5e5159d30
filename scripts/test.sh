#!/bin/sh
# The whole test suite, in parallel. SQLite by default; DATABASE_URL=postgres://… selects
# PostgreSQL, where the concurrency tests run too. Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" "$@"
