#!/bin/sh
# Makes the virtualenv with schemathesis (pinned) that the API fuzz test runs.
# Usage: sh crates/api/tests/schemathesis/setup.sh [VENV_DIR]   (default: target/schemathesis-venv)
set -eu
venv=${1:-target/schemathesis-venv}
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$(dirname "$0")/requirements.txt"
"$venv/bin/st" --version
