"""``manage.py runworker`` in a real subprocess: logs, work, graceful SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings


def _spawn(tmp_path: Path, *channels: str) -> subprocess.Popen[str]:
    env = dict(os.environ, CHANNELS_TEST_SEED=str(tmp_path / "seed.json"), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "django", "runworker", "--layer", "seeded", *channels],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(process: subprocess.Popen[str], needle: str) -> str:
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"runworker exited without logging {needle!r}; it logged: {seen}")


def test_sigterm_lets_the_in_flight_handler_finish(tmp_path: Path) -> None:
    seed = [{"channel": "slow-tasks", "message": {"type": "slow", "dir": str(tmp_path)}}]
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    process = _spawn(tmp_path, "slow-tasks")
    try:
        logged = _read_until(process, "Listening on channels slow-tasks")
        assert "Running worker for channels ['slow-tasks'] on layer 'seeded'" in logged
        while not (tmp_path / "started").exists():
            assert process.poll() is None, "runworker died before handling the message"
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        _read_until(process, "Received SIGTERM")
        assert not (tmp_path / "finished").exists()
        (tmp_path / "release").write_text("1")
        assert process.wait(timeout=60) == 0
        assert (tmp_path / "finished").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_runworker_without_a_layer_is_a_command_error() -> None:
    with (
        override_settings(CHANNEL_LAYERS={}),
        pytest.raises(CommandError, match="No channel layer 'default' configured"),
    ):
        call_command("runworker", "jobs")


def test_runworker_requires_channel_names() -> None:
    with pytest.raises(CommandError, match="channels"):
        call_command("runworker")
