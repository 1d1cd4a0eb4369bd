"""The test tools themselves: communicator scopes, validation, lazy daphne."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from channels.testing import HttpCommunicator, WebsocketCommunicator


class ScopeSpy:
    """Accepts, then reports its scope in the first frame (or response body)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        summary = repr(
            {
                k: scope[k]
                for k in ("type", "path", "query_string", "subprotocols", "spec_version", "method")
                if k in scope
            }
        ).encode()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "bytes": summary})
            await receive()
        else:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": summary, "more_body": True})
            await send({"type": "http.response.body", "body": b"!"})


async def test_websocket_scope_from_path() -> None:
    communicator = WebsocketCommunicator(
        ScopeSpy(), "/a%20b/?x=1&y=%20", subprotocols=["p1"], spec_version="2.3"
    )
    assert await communicator.connect() == (True, None)
    summary = await communicator.receive_from()
    assert (
        summary
        == repr(
            {
                "type": "websocket",
                "path": "/a b/",
                "query_string": b"x=1&y=%20",
                "subprotocols": ["p1"],
                "spec_version": "2.3",
            }
        ).encode()
    )
    await communicator.disconnect()


async def test_http_scope_and_chunked_body() -> None:
    communicator = HttpCommunicator(ScopeSpy(), "post", "/p/?q=1")
    response = await communicator.get_response()
    assert response["status"] == 200
    assert (
        response["body"]
        == repr(
            {
                "type": "http",
                "path": "/p/",
                "query_string": b"q=1",
                "method": "POST",
            }
        ).encode()
        + b"!"
    )


async def test_send_to_validates_its_arguments() -> None:
    communicator = WebsocketCommunicator(ScopeSpy(), "/")
    await communicator.connect()
    with pytest.raises(ValueError, match="exactly one of text_data or bytes_data"):
        await communicator.send_to()
    with pytest.raises(ValueError, match="exactly one"):
        await communicator.send_to(text_data="a", bytes_data=b"b")
    with pytest.raises(TypeError, match="text_data must be str, got bytes"):
        await communicator.send_to(text_data=b"x")  # type: ignore[arg-type]
    communicator.stop()


def test_path_must_be_str() -> None:
    with pytest.raises(TypeError, match="path must be a str"):
        WebsocketCommunicator(ScopeSpy(), b"/")  # type: ignore[arg-type]


async def test_receive_from_rejects_other_messages() -> None:
    communicator = WebsocketCommunicator(ScopeSpy(), "/")
    await communicator.send_input({"type": "websocket.connect"})
    with pytest.raises(AssertionError, match=r"Expected 'websocket\.send'"):
        await communicator.receive_from()
    communicator.stop()


async def test_crash_surfaces_without_waiting_for_the_timeout() -> None:
    async def crash(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise KeyError("no such room")

    communicator = WebsocketCommunicator(crash, "/")
    # A huge timeout: the crash must surface at once, not after it.
    with pytest.raises(KeyError, match="no such room"):
        await communicator.connect(timeout=3600)


def test_channels_testing_imports_without_daphne() -> None:
    code = (
        "import sys; sys.modules['daphne'] = None\n"
        "import channels.testing as t\n"
        "assert 'daphne' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "assert t.WebsocketCommunicator and t.HttpCommunicator and t.ApplicationCommunicator\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


async def test_a_crash_is_reported_before_output_sent_just_before_it() -> None:
    # As upstream's communicator: once the application has died, its error comes first.
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        raise KeyError("died after accepting")

    communicator = WebsocketCommunicator(app, "/")
    await communicator.send_input({"type": "websocket.connect"})
    with pytest.raises(KeyError, match="died after accepting"):
        await communicator.wait()
    with pytest.raises(KeyError, match="died after accepting"):
        await communicator.receive_output()
