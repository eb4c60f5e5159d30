#!/bin/sh
# The whole test suite, in parallel. SQLite by default; DATABASE_URL=postgres://… selects
# PostgreSQL, where the concurrency tests run too. Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" "$@"
