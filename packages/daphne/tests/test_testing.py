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
        error, text = process.errors.get(timeout=10)
        assert isinstance(error, ImportError)
        assert "Traceback" in text
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


def test_testing_instance_records_what_the_application_received():
    import http.client

    from daphne.testing import DaphneTestingInstance, TestApplication

    TestApplication.delete_setup()
    TestApplication.delete_result()
    with DaphneTestingInstance() as instance:
        # Lifespan is not offered to the recording application, so the server starts at once.
        instance.add_send_messages(
            [
                {"type": "http.response.start", "status": 201},
                {"type": "http.response.body", "body": b"made"},
            ]
        )
        connection = http.client.HTTPConnection(instance.host, instance.port, timeout=30)
        connection.request("POST", "/things?x=1", body=b"payload")
        response = connection.getresponse()
        assert (response.status, response.read()) == (201, b"made")
        scope, messages = instance.get_received()
        connection.close()
    assert scope["type"] == "http" and scope["path"] == "/things"
    assert scope["query_string"] == b"x=1"
    assert messages[0] == {"type": "http.request", "body": b"payload", "more_body": False}


def test_testing_instance_reraises_the_application_error():
    import http.client

    from daphne.testing import DaphneTestingInstance

    with DaphneTestingInstance() as instance:
        instance.add_send_messages(
            [{"type": "http.response.start", "status": 200, "headers": [["a", b"b"]]}]
        )
        connection = http.client.HTTPConnection(instance.host, instance.port, timeout=30)
        connection.request("GET", "/")
        assert connection.getresponse().status == 500
        with pytest.raises(ValueError, match="Header name 'a' expected to be `bytes`"):
            instance.get_received()


def test_testing_instance_reports_why_the_server_did_not_start():
    from daphne.testing import BaseDaphneTestingInstance

    class Broken(BaseDaphneTestingInstance):
        def process_setup(self):
            raise LookupError("setup went wrong")

    with pytest.raises(RuntimeError, match="setup went wrong"), Broken(application=None):
        pass


def test_daphne_process_listens_on_the_port_it_was_given(free_port):
    port = free_port()
    process = DaphneProcess("127.0.0.1", ImportStringApplication("daphne_test_apps:app"), port=port)
    process.start()
    try:
        assert process.ready.wait(60)
        assert process.port.value == port
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "Hello, world!"
    finally:
        process.terminate()
        process.join(30)


def _stop_soon():
    from twisted.internet import reactor

    reactor.callLater(0, reactor.stop)


def _failing_teardown():
    raise KeyError("teardown went wrong")


def test_daphne_process_reports_a_teardown_error_with_its_traceback():
    process = DaphneProcess(
        "127.0.0.1",
        ImportStringApplication("daphne_test_apps:app"),
        kwargs={"ready_callable": _stop_soon},  # runs after the process's own port report
        teardown=_failing_teardown,
    )
    process.start()
    try:
        error, text = process.errors.get(timeout=60)
        assert isinstance(error, KeyError)
        assert "teardown went wrong" in text and "Traceback" in text
    finally:
        process.join(30)


INHERITED_LOOP_SCRIPT = """
import sys, httpx
sys.path.insert(0, {tests!r})
from daphne._reactor import install_asyncio_reactor
from daphne.testing import DaphneProcess, ImportStringApplication

# The parent's reactor is unusable (its loop is closed); a forked child must not inherit it.
install_asyncio_reactor()._asyncioEventloop.close()
process = DaphneProcess("127.0.0.1", ImportStringApplication("daphne_test_apps:app"))
process.start()
assert process.ready.wait(60), "not ready"
print(process.errors.empty(), httpx.get(f"http://127.0.0.1:{{process.port.value}}/").text)
process.terminate()
process.join(30)
"""


def test_a_forked_server_process_starts_its_own_reactor():
    script = INHERITED_LOOP_SCRIPT.format(tests=str(Path(__file__).parent))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "True Hello, world!", result.stderr


class _LifespanMarker:
    """Writes ``path`` when the server's lifespan shutdown reaches it (picklable)."""

    def __init__(self, path):
        self.path = path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        Path(self.path).write_text("stopped")
        await send({"type": "lifespan.shutdown.complete"})


def test_leaving_a_testing_instance_stops_its_server_gracefully(tmp_path):
    from daphne.testing import BaseDaphneTestingInstance

    marker = tmp_path / "marker"
    with BaseDaphneTestingInstance(application=_LifespanMarker(str(marker))) as instance:
        assert instance.port
        assert not marker.exists()
    # Stopped as SIGTERM stops daphne (pending writes flushed, lifespan shutdown run), not
    # killed mid-write.
    assert marker.read_text() == "stopped"
