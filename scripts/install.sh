#!/bin/sh
# The virtual environment with the project and its locked dependencies, installed only when
# pyproject.toml or constraints.txt changed since the last install: running the tests beside a
# development server then leaves its packages alone (a reinstall restarts the server).
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.installed-from
wanted=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
  echo "$wanted" > "$stamp"
fi
