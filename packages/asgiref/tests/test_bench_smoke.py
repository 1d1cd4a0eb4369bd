"""The asgiref benchmarks still run, report every case and write their JSON records (no
timing asserted). Without the upstream peer: its venv comes from PyPI, and tests use no
network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[3] / "bench"


def run_bench(script: str, output: Path, *args: str) -> tuple[list[str], dict[str, Any]]:
    """Run ``bench/<script>`` without upstream and charts; its stdout lines and JSON record."""
    command = [sys.executable, str(BENCH / script), *args, "--no-upstream", "--no-charts"]
    completed = subprocess.run(
        [*command, "--output", str(output)], capture_output=True, text=True, timeout=240
    )
    assert completed.returncode == 0, completed.stderr
    record = json.loads((output / script.replace(".py", ".json")).read_text())
    assert record["meta"]["machine_before"]["loadavg"]
    return completed.stdout.splitlines(), record


def test_layers_bench_reports_every_scenario(tmp_path: Path) -> None:
    lines, record = run_bench("asgiref_layers.py", tmp_path, "--quick", "--repeat", "1")
    rows = lines[1:6]
    assert [line.split("  ")[0] for line in rows] == [
        "round trip x2000",
        "ping-pong x2000",
        "fan-out 1",
        "fan-out 100",
        "fan-out 1000",
    ], lines
    assert all(line.rstrip().endswith("x") for line in rows), lines
    charts = {w["name"]: w for w in record["workloads"]}
    fan_out = charts["in-memory layer: group_send, time until every member received it"]
    assert fan_out["metrics"] == ["fan-out 1", "fan-out 100", "fan-out 1000"]
    assert [s["role"] for s in fan_out["series"]] == ["ours", "peer"]
    assert all(value > 0 for s in fan_out["series"] for value in s["values"].values())


def test_sync_bench_records_every_case(tmp_path: Path) -> None:
    lines, record = run_bench("asgiref_sync.py", tmp_path, "--calls", "200", "--repeat", "2")
    assert any(line.startswith("async_to_sync (plain thread) ") for line in lines), lines
    assert len(record["meta"]["rates_per_round"]["async_to_sync (plain thread)"]) == 2
    a2s, s2a = record["workloads"]
    assert [s["role"] for s in a2s["series"]] == ["ours", "peer"]
    assert a2s["notes"]["headline"]["ratio"] is None  # it needs upstream's rounds
    assert s2a["metrics"] == ["thread_sensitive=True", "thread_sensitive=False"]
    assert all(value > 0 for s in s2a["series"] for value in s["values"].values())
