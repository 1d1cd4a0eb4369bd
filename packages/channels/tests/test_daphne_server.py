"""The tutorial app under a real daphne process: lifespan hooks and SIGTERM shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    while not path.exists():
        assert process.poll() is None, f"daphne exited early with code {process.returncode}"
        time.sleep(0.01)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    # Lifespan startup may complete before the socket is bound.
    while True:
        assert process.poll() is None, f"daphne exited early with code {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)


@pytest.mark.usefixtures("_migrated")
def test_lifespan_hooks_and_disconnect_once_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(os.environ, CHANNELS_TEST_LIFESPAN_DIR=str(tmp_path))
    command = [
        sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
        "--lifespan", "on", "--shutdown-timeout", "2", "--application-close-timeout", "2",
        "channels_tests_app:application",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    marker = tmp_path / "disconnects"
    try:
        _wait_for(tmp_path / "startup", process)
        _wait_listening(port, process)
        url = f"ws://127.0.0.1:{port}/ws/marker/?marker={marker}"
        with connect(url, additional_headers={"Origin": f"http://127.0.0.1:{port}"},
                     open_timeout=30) as client:  # fmt: skip
            client.ping().wait(30)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (tmp_path / "shutdown").exists()
    # disconnect() ran exactly once, told the server is going away.
    assert marker.read_text().split() == ["1001"]
