"""Cookie and session middleware: parsing, saving before the response/accept, cookies."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import WebsocketConsumer
from channels.sessions import CookieMiddleware, SessionMiddleware, SessionMiddlewareStack
from channels.testing import ApplicationCommunicator, HttpCommunicator, WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session

pytestmark = pytest.mark.usefixtures("db")


class CookieEcho(AsyncHttpConsumer):
    async def handle(self, body: bytes) -> None:
        await self.send_response(200, repr(sorted(self.scope["cookies"].items())).encode())


async def test_cookie_middleware_parses_all_cookie_headers() -> None:
    communicator = HttpCommunicator(
        CookieMiddleware(CookieEcho.as_asgi()),
        "GET",
        "/",
        headers=[(b"cookie", b"a=1; b=two"), (b"cookie", b"c=3")],
    )
    response = await communicator.get_response()
    assert response["body"] == b"[('a', '1'), ('b', 'two'), ('c', '3')]"


async def test_cookie_middleware_needs_headers() -> None:
    app = CookieMiddleware(CookieEcho.as_asgi())
    communicator = ApplicationCommunicator(app, {"type": "channel"})
    with pytest.raises(
        ValueError, match=r"^CookieMiddleware was passed a scope that did not have a headers key"
    ):
        await communicator.wait()


async def test_session_middleware_needs_cookies() -> None:
    communicator = ApplicationCommunicator(
        SessionMiddleware(CookieEcho.as_asgi()), {"type": "http"}
    )
    with pytest.raises(
        ValueError,
        match=r"^No cookies in scope - SessionMiddleware needs to run inside of CookieMiddleware",
    ):
        await communicator.wait()


def test_set_and_delete_cookie_helpers() -> None:
    message: dict[str, Any] = {"type": "http.response.start", "status": 200, "headers": []}
    CookieMiddleware.set_cookie(message, "flavour", "mint", max_age=60, httponly=True)
    CookieMiddleware.delete_cookie(message, "old")
    first, second = (value.decode() for _, value in message["headers"])
    assert first.startswith("flavour=mint;") and "Max-Age=60" in first and "HttpOnly" in first
    assert "samesite=lax" in first.lower()
    assert second.startswith('old="";') and "Max-Age=0" in second


class Counter(AsyncHttpConsumer):
    async def handle(self, body: bytes) -> None:
        session = self.scope["session"]
        count = await database_sync_to_async(session.get)("count", 0)
        if body != b"read-only":
            await database_sync_to_async(session.__setitem__)("count", count + 1)
        await self.send_response(200, str(count).encode())


def _session_cookie(response: dict[str, Any]) -> str | None:
    for name, value in response["headers"]:
        if name == b"Set-Cookie" and value.startswith(settings.SESSION_COOKIE_NAME.encode()):
            return value.decode().split(";")[0].split("=", 1)[1]
    return None


async def test_modified_session_is_saved_and_cookie_set_on_http_response() -> None:
    app = SessionMiddlewareStack(Counter.as_asgi())
    first = await HttpCommunicator(app, "POST", "/").get_response()
    key = _session_cookie(first)
    assert first["body"] == b"0" and key
    cookie = [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())]
    second = await HttpCommunicator(app, "POST", "/", headers=cookie).get_response()
    assert second["body"] == b"1"
    # An unmodified session is not saved again and sets no cookie.
    third = await HttpCommunicator(
        app, "POST", "/", body=b"read-only", headers=cookie
    ).get_response()
    assert third["body"] == b"2" and _session_cookie(third) is None


async def test_emptied_session_deletes_the_cookie() -> None:
    store = SessionStore()
    await database_sync_to_async(store.create)()

    class Flush(AsyncHttpConsumer):
        async def handle(self, body: bytes) -> None:
            await database_sync_to_async(self.scope["session"].flush)()
            await self.send_response(200, b"")

    cookie = [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={store.session_key}".encode())]
    response = await HttpCommunicator(
        SessionMiddlewareStack(Flush.as_asgi()), "GET", "/", headers=cookie
    ).get_response()
    values = [v.decode() for n, v in response["headers"] if n == b"Set-Cookie"]
    assert len(values) == 1 and "Max-Age=0" in values[0]


class RememberOnConnect(WebsocketConsumer):
    def connect(self) -> None:
        self.scope["session"]["seen"] = "yes"
        self.accept()


async def test_session_changed_in_connect_is_saved_before_accept_goes_out() -> None:
    communicator = WebsocketCommunicator(SessionMiddlewareStack(RememberOnConnect.as_asgi()), "/")
    connected, _ = await communicator.connect()
    assert connected
    # The accept carries the cookie, and the row already exists when the accept arrives.
    headers = dict(communicator.response_headers or [])
    key = headers[b"Set-Cookie"].decode().split(";")[0].split("=", 1)[1]
    stored = await database_sync_to_async(Session.objects.get)(session_key=key)
    assert stored.get_decoded() == {"seen": "yes"}
    await communicator.disconnect()


async def test_malformed_cookie_header_gives_an_empty_session() -> None:
    communicator = HttpCommunicator(
        SessionMiddlewareStack(Counter.as_asgi()),
        "POST",
        "/",
        headers=[(b"cookie", b"\xff\xfe;;=;sessionid")],
    )
    response = await communicator.get_response()
    assert response["status"] == 200 and response["body"] == b"0"


def test_set_cookie_renders_upstreams_header() -> None:
    message: dict[str, Any] = {}
    CookieMiddleware.set_cookie(message, "Testing-Key", "testing-value")
    assert message == {
        "headers": [(b"Set-Cookie", b"Testing-Key=testing-value; Path=/; SameSite=lax")]
    }


@pytest.mark.parametrize("catch", [ValueError, AssertionError])
def test_an_invalid_samesite_is_both_upstreams_and_djangos_error(catch: type[Exception]) -> None:
    with pytest.raises(catch, match="samesite must be either 'strict', 'lax' or 'none'"):
        CookieMiddleware.set_cookie({}, "k", "v", samesite="Hello")
