#!/bin/sh
# Builds and installs the shadowfleet Python package (and what its tests and the Spark job
# need, pinned in requirements-ci.txt) into a virtual environment: `sh python/setup.sh VENV`.
# Users who only want the package run `pip install ./python` in their own environment.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:?usage: setup.sh VENV}"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -r "$here/requirements-ci.txt"
# Build the wheel with the repository's target directory (the workspace's crates are built
# once for both), then install it.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../target}" \
  "$venv/bin/maturin" build --release --quiet -m "$here/Cargo.toml" -o "$here/../target/wheels" -i "$venv/bin/python"
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$here"/../target/wheels/shadowfleet-*.whl
"$venv/bin/python" -c "import shadowfleet; print('shadowfleet', shadowfleet.__version__, 'installed in $venv')"
