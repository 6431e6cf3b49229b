#!/bin/sh
# Makes the virtualenv of the pyais + DuckDB peer used by `cargo bench --bench analyze`.
# Usage: sh benches/peer/setup.sh [VENV_DIR]   (default: target/peer-venv)
set -eu
venv=${1:-target/peer-venv}
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$(dirname "$0")/requirements.txt"
