"""Origin validation: the pure matcher and the two middlewares."""

from __future__ import annotations

from typing import Any

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security._origin import origin_allowed, parse_origin
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.test import override_settings


@pytest.mark.parametrize(
    ("origin", "allowed", "ok"),
    [
        ("http://example.com", ["example.com"], True),
        ("https://example.com:8443", ["example.com"], True),
        ("http://sub.example.com", ["example.com"], False),
        ("http://sub.example.com", [".example.com"], True),
        ("http://example.com", [".example.com"], True),
        ("http://badexample.com", [".example.com"], False),
        ("https://example.com", ["https://example.com"], True),
        ("http://example.com", ["https://example.com"], False),
        ("https://example.com", ["https://example.com:443"], True),
        ("https://example.com:8443", ["https://example.com"], False),
        ("http://example.com:8080", ["example.com:8080"], True),
        ("http://example.com:8081", ["example.com:8080"], False),
        ("http://EXAMPLE.com", ["example.COM"], True),
        ("http://[::1]:8000", ["[::1]"], True),
        ("http://anything.test", ["*"], True),
        (None, ["*"], True),
        (None, ["example.com"], False),
        ("null", ["example.com"], False),
        ("http://example.com:notaport", ["example.com"], False),
        ("not a url", ["example.com"], False),
    ],
)
def test_origin_patterns(origin: str | None, allowed: list[str], ok: bool) -> None:
    parsed = parse_origin(origin.encode() if origin is not None else None)
    assert origin_allowed(parsed, allowed) is ok


def test_non_ascii_origin_is_refused() -> None:
    assert parse_origin("http://exämple.com".encode()) is None


class Accepting(AsyncWebsocketConsumer):
    pass


def _ws(app: Any, origin: bytes | None) -> WebsocketCommunicator:
    headers = [(b"origin", origin)] if origin is not None else []
    return WebsocketCommunicator(app, "/", headers=headers)


async def test_allowed_origin_passes_and_refused_one_is_denied_before_accept() -> None:
    app = OriginValidator(Accepting.as_asgi(), [".example.com", "http://localhost:8000"])
    good = _ws(app, b"https://www.example.com")
    assert (await good.connect())[0] is True
    await good.disconnect()
    for origin in (b"http://localhost:9000", b"http://evil.test", None, b"\xff\xfe"):
        bad = _ws(app, origin)
        # connect() returns the first message: a close, never an accept.
        assert (await bad.connect())[0] is False
        await bad.disconnect()


async def test_http_with_bad_origin_gets_403() -> None:
    app = OriginValidator(Accepting.as_asgi(), ["example.com"])
    communicator = HttpCommunicator(app, "GET", "/", headers=[(b"origin", b"http://evil.test")])
    assert (await communicator.get_response())["status"] == 403


async def test_other_scope_types_are_refused() -> None:
    app = OriginValidator(Accepting.as_asgi(), ["*"])
    with pytest.raises(ValueError, match="got 'lifespan'"):
        await app({"type": "lifespan"}, None, None)  # type: ignore[arg-type]


def test_bad_patterns_are_refused_at_construction() -> None:
    with pytest.raises(TypeError, match="list of patterns"):
        OriginValidator(Accepting.as_asgi(), "example.com")
    with pytest.raises(ValueError, match="invalid port"):
        OriginValidator(Accepting.as_asgi(), ["example.com:port"])


async def test_allowed_hosts_validator_follows_settings() -> None:
    app = AllowedHostsOriginValidator(Accepting.as_asgi())
    with override_settings(ALLOWED_HOSTS=["chat.test"]):
        ok = _ws(app, b"https://chat.test")
        assert (await ok.connect())[0] is True
        await ok.disconnect()
        refused = _ws(app, b"http://localhost")
        assert (await refused.connect())[0] is False
    with override_settings(ALLOWED_HOSTS=[], DEBUG=True):
        for origin in (b"http://localhost:8000", b"http://127.0.0.1", b"http://[::1]:8000"):
            debug = _ws(app, origin)
            assert (await debug.connect())[0] is True, origin
            await debug.disconnect()
    with override_settings(ALLOWED_HOSTS=[], DEBUG=False):
        refused = _ws(app, b"http://localhost")
        assert (await refused.connect())[0] is False
