"""The lifespan protocol: startup before serving, state in scopes, shutdown on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


def test_state_from_startup_reaches_http_scopes(server):
    scope = httpx.get(f"http://{server[0]}:{server[1]}/scope").json()
    assert scope["state"] == {"started": "yes"}


def test_lifespan_off_sends_nothing(pool):
    server = pool.get(lifespan="off")
    assert httpx.get(f"http://{server[0]}:{server[1]}/scope").json()["state"] is None


def test_auto_mode_tolerates_apps_without_lifespan(pool):
    server = pool.get("daphne_test_apps:no_lifespan_app")
    assert httpx.get(f"http://{server[0]}:{server[1]}/").status_code == 200


def test_on_mode_failure_stops_the_server(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "daphne",
            "--lifespan",
            "on",
            "-p",
            "0",
            "daphne_test_apps:failing_startup_app",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(Path(__file__).parent), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "database unreachable" in result.stderr


@pytest.mark.parametrize("lifespan", ["auto", "on"])
def test_sigterm_runs_graceful_shutdown(cli_server, free_port, tmp_path, lifespan):
    record = tmp_path / "events.jsonl"
    port = free_port()
    args = ["-p", str(port), "--lifespan", lifespan, "daphne_test_apps:recording_app"]
    with cli_server(args, port=port, env={"DAPHNE_TEST_RECORD": str(record)}) as process:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        assert process.returncode == 0
    events = [json.loads(line)["event"] for line in record.read_text().splitlines()]
    assert events == ["lifespan.startup", "lifespan.shutdown"]
