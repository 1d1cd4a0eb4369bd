"""ChannelsLiveServerTestCase: daphne in a child process against the test database."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import channels_tests_app
import pytest
from channels.testing import ChannelsLiveServerTestCase
from channels.testing._login import session_cookie_for
from websockets.sync.client import connect


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


@pytest.mark.usefixtures("_migrated")
class LiveServerTests(ChannelsLiveServerTestCase):
    def _ws(self, path: str, headers: dict[str, str] | None = None) -> Any:
        origin = {"Origin": self.live_server_url}
        return connect(
            self.live_server_ws_url + path,
            additional_headers={**origin, **(headers or {})},
            open_timeout=30,
        )

    def test_urls(self) -> None:
        assert self.live_server_url.startswith("http://localhost:")
        assert self.live_server_ws_url == self.live_server_url.replace("http://", "ws://")

    def test_django_http_and_static_files(self) -> None:
        assert _get(self.live_server_url + "/hello/") == "hello from django"
        assert "teal" in _get(self.live_server_url + "/static/channels-test.css")

    def test_chat_over_real_websockets(self) -> None:
        with self._ws("/ws/chat/live/") as first, self._ws("/ws/chat/live/") as second:
            first.send(json.dumps({"message": "over the wire"}))
            expected = {"message": "over the wire", "user": "anonymous"}
            assert json.loads(first.recv(timeout=30)) == expected
            assert json.loads(second.recv(timeout=30)) == expected

    def test_server_sent_events_stop_when_the_client_leaves(self) -> None:
        marker = Path(tempfile.mkdtemp()) / "marker"
        connection = http.client.HTTPConnection(self.host, self._port, timeout=30)
        connection.request("GET", f"/events/?marker={marker}")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream"
        assert response.readline() == b"data: 0\n"
        assert response.readline() == b"\n"
        assert response.readline() == b"data: 1\n"
        connection.close()  # the server sends http.disconnect; the stream handler is cancelled
        # Well within the server's application close timeout (10 s): disconnect() must run
        # because the disconnect arrived, not because the server gave up on the instance.
        deadline = time.monotonic() + 5
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert marker.exists(), "disconnect() did not run within 5 s of the client leaving"
        assert marker.read_text() == "disconnected"

    def test_server_sees_users_created_by_the_test(self) -> None:
        from django.contrib.auth.models import User

        user = User.objects.create_user("dora", password="pw")
        name, key = session_cookie_for(user)
        with self._ws("/ws/chat/auth/", {"Cookie": f"{name}={key}"}) as socket:
            socket.send(json.dumps({"message": "hi"}))
            assert json.loads(socket.recv(timeout=30)) == {"message": "hi", "user": "dora"}


@pytest.mark.usefixtures("_migrated")
class SpawnedLiveServerTests(ChannelsLiveServerTestCase):
    """The server child is started with the spawn method (no inherited state)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls._previous_method = multiprocessing.get_start_method()
        multiprocessing.set_start_method("spawn", force=True)
        cls._previous_mark = channels_tests_app.PARENT_MARK
        channels_tests_app.PARENT_MARK = "set in parent"
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        multiprocessing.set_start_method(cls._previous_method, force=True)
        channels_tests_app.PARENT_MARK = cls._previous_mark

    def test_child_was_spawned_and_serves(self) -> None:
        assert _get(self.live_server_url + "/parent-mark/") == "unset"
        assert _get(self.live_server_url + "/hello/") == "hello from django"
