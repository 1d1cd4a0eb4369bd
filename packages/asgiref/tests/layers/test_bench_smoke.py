"""bench/asgiref_layers.py still runs, reports every scenario and writes its JSON record
(no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[4] / "bench" / "asgiref_layers.py"


def test_bench_runs_and_reports_every_scenario(tmp_path: Path) -> None:
    completed = subprocess.run(
        # Without the upstream peer: its venv comes from PyPI, and tests use no network.
        [
            *(sys.executable, str(BENCH), "--quick", "--repeat", "1", "--no-upstream"),
            *("--no-charts", "--output", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()[1:6]
    labels = [line.split("  ")[0] for line in lines]
    assert labels == [
        "round trip x2000",
        "ping-pong x2000",
        "fan-out 1",
        "fan-out 100",
        "fan-out 1000",
    ], completed.stdout
    assert all(line.rstrip().endswith("x") for line in lines), completed.stdout
    record = json.loads((tmp_path / "asgiref_layers.json").read_text())
    assert record["meta"]["machine_before"]["loadavg"]
    charts = {w["name"]: w for w in record["workloads"]}
    fan_out = charts["in-memory layer: group_send, time until every member received it"]
    assert fan_out["metrics"] == ["fan-out 1", "fan-out 100", "fan-out 1000"]
    assert [s["role"] for s in fan_out["series"]] == ["ours", "peer"]  # no upstream here
    assert all(value > 0 for s in fan_out["series"] for value in s["values"].values())
