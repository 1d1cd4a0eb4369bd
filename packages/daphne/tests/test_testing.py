"""daphne.testing: DaphneProcess under the spawn start method, and serve()."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from daphne.testing import DaphneProcess, ImportStringApplication, serve

SPAWN_SCRIPT = """
import multiprocessing, sys, httpx
sys.path.insert(0, {tests!r})
from daphne.testing import DaphneProcess, ImportStringApplication

if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    process = DaphneProcess("127.0.0.1", ImportStringApplication("daphne_test_apps:app"),
                            kwargs={{"server_name": "spawned"}})
    process.start()
    assert process.ready.wait(60), "not ready"
    assert process.errors.empty()
    response = httpx.get(f"http://127.0.0.1:{{process.port.value}}/")
    print(response.status_code, response.headers["server"])
    process.terminate()
    process.join(30)
"""


def test_daphne_process_with_spawn_start_method():
    script = SPAWN_SCRIPT.format(tests=str(Path(__file__).parent))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "200 spawned", result.stderr


def test_daphne_process_reports_startup_errors():
    process = DaphneProcess("127.0.0.1", ImportStringApplication("daphne_test_apps:missing"))
    process.start()
    try:
        assert process.ready.wait(60)
        error = process.errors.get(timeout=10)
        assert isinstance(error, ImportError)
        assert "missing" in str(error)
    finally:
        process.join(30)


def test_serve_yields_host_and_port():
    with serve("daphne_test_apps:app") as (host, port):
        assert host == "127.0.0.1"
        assert httpx.get(f"http://{host}:{port}/").text == "Hello, world!"


def test_serve_raises_when_startup_fails():
    with (
        pytest.raises(RuntimeError, match="daphne failed to start"),
        serve("daphne_test_apps:app", lifespan="bogus"),
    ):
        pass
