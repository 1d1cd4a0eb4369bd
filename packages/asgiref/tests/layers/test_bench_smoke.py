"""bench/asgiref_layers.py still runs and reports every scenario (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[4] / "bench" / "asgiref_layers.py"


def test_bench_runs_and_reports_every_scenario() -> None:
    completed = subprocess.run(
        # Without the upstream peer: its venv comes from PyPI, and tests use no network.
        [sys.executable, str(BENCH), "--quick", "--repeat", "1", "--no-upstream"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    labels = [line.split("  ")[0] for line in lines[1:]]
    assert labels == [
        "round trip x2000",
        "ping-pong x2000",
        "fan-out 1",
        "fan-out 100",
        "fan-out 1000",
    ], completed.stdout
    assert all(line.rstrip().endswith("x") for line in lines[1:]), completed.stdout
