"""Fixtures: the `shadowfleet` binary (SHADOWFLEET_BIN, else target/release/shadowfleet), a
scratch directory (SHADOWFLEET_TEST_TMP, else pytest's), and simulated worlds made once per
session with the binary's `simulate`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shadowfleet_bin() -> str:
    b = os.environ.get("SHADOWFLEET_BIN") or str(REPO / "target" / "release" / "shadowfleet")
    if not Path(b).exists():
        pytest.fail(f"no shadowfleet binary at {b}: cargo build --release, or set SHADOWFLEET_BIN")
    return b


@pytest.fixture(scope="session")
def scratch(tmp_path_factory) -> Path:
    base = os.environ.get("SHADOWFLEET_TEST_TMP")
    if base:
        d = Path(base) / "python-tests"
        d.mkdir(parents=True, exist_ok=True)
        return d
    return tmp_path_factory.mktemp("shadowfleet")


def run(*args: str) -> str:
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def simulate(bin_: str, out: Path, scenario: str, days: int, seed: int, fleet_scale: int = 1) -> Path:
    """The world's AIS file, simulated once (kept between runs when already there)."""
    nmea = out / "ais.nmea"
    if not nmea.exists():
        run(bin_, "simulate", "--scenario", scenario, "--days", str(days), "--seed", str(seed),
            "--fleet-scale", str(fleet_scale), "--out", str(out), "-q")
    return nmea


@pytest.fixture(scope="session")
def baltic3(shadowfleet_bin, scratch) -> Path:
    """A simulated `baltic` world, 3 days, seed 5."""
    return simulate(shadowfleet_bin, scratch / "baltic3-s5", "baltic", 3, 5)
