"""The ASGI HTTP interface as a server implements it (ASGI spec, "HTTP")."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ._checks import assert_no_leak, describe, get
from ._kit import Kit
from ._wire import request


def _b(value: str) -> dict[str, str]:
    return {"bytes": value}


def _scope(kit: Kit, raw: bytes) -> dict[str, Any]:
    response = get(kit, raw)
    assert response.status == 200, describe(response)
    data: dict[str, Any] = json.loads(response.body)
    return data


def test_scope_basics(server_kit: Kit) -> None:
    """ASGI HTTP "Connection Scope": type "http", asgi.version "3.0", http_version "1.1",
    method uppercase, scheme http/https, root_path "" by default."""
    scope = _scope(server_kit, request("GET", "/scope"))
    assert scope["type"] == "http" and scope["asgi"]["version"] == "3.0", scope
    assert scope["asgi"].get("spec_version", "2.0").startswith("2."), scope["asgi"]
    assert (scope["http_version"], scope["method"]) == ("1.1", "GET")
    assert scope["scheme"] == ("https" if server_kit.tls else "http")
    assert scope.get("root_path", "") == ""


def test_http10_version_in_scope(server_kit: Kit) -> None:
    """ASGI HTTP "Connection Scope" http_version: "1.0" for an HTTP/1.0 request."""
    scope = _scope(server_kit, request("GET", "/scope", version="HTTP/1.0"))
    assert scope["http_version"] == "1.0"


def test_path_is_percent_decoded_and_raw_path_is_not(server_kit: Kit) -> None:
    """ASGI HTTP "Connection Scope": path is the percent-decoded UTF-8 path; raw_path is the
    original bytes (when provided); the query string is not decoded."""
    scope = _scope(server_kit, request("GET", "/scope/caf%C3%A9%2Fx?a=%20b&c=d"))
    assert scope["path"] == "/scope/café/x", scope["path"]
    if scope.get("raw_path") is not None:
        assert scope["raw_path"] == _b("/scope/caf%C3%A9%2Fx"), scope["raw_path"]
    assert scope["query_string"] == _b("a=%20b&c=d")


def test_headers_are_lowercased_in_order_with_duplicates(server_kit: Kit) -> None:
    """ASGI HTTP "Connection Scope" headers: names lowercased, order and repeated fields
    kept as sent (RFC 9110 §5.3)."""
    raw = request("GET", "/scope", ("X-Kit-B", "2"), ("X-Kit-A", "1"), ("X-Kit-B", "3"))
    scope = _scope(server_kit, raw)
    kit = [pair for pair in scope["headers"] if pair[0]["bytes"].startswith("x-kit-")]
    assert kit == [
        [_b("x-kit-b"), _b("2")],
        [_b("x-kit-a"), _b("1")],
        [_b("x-kit-b"), _b("3")],
    ], kit


def test_client_and_server_addresses(server_kit: Kit) -> None:
    """ASGI HTTP "Connection Scope": client is [host, port] of the peer (127.0.0.1) and
    server is [host, port] the server listens on."""
    scope = _scope(server_kit, request("GET", "/scope"))
    port = server_kit.server().target.port
    client = scope["client"]
    assert client[0] == "127.0.0.1" and isinstance(client[1], int), f"client is {client}"
    assert scope["server"] == ["127.0.0.1", port], f"expected server [127.0.0.1, {port}]"


def test_request_body_arrives_in_order_with_more_body(server_kit: Kit) -> None:
    """ASGI "Request - receive event": the body arrives in http.request messages whose last
    has more_body False; joined, they are the body sent in three pieces over time."""
    with server_kit.connect() as conn:
        conn.send(b"POST /scope HTTP/1.1\r\nHost: kit.test\r\nContent-Length: 300000\r\n\r\n")
        for piece in (b"a" * 100_000, b"b" * 100_000, b"c" * 100_000):
            conn.send(piece)
            time.sleep(0.05)
        response = conn.read_response("POST")
    assert response is not None and response.status == 200, describe(response)
    scope = json.loads(response.body)
    assert scope["body_size"] == 300_000
    assert scope["chunks"][-1][1] is False, scope["chunks"]
    assert all(more for _, more in scope["chunks"][:-1]), scope["chunks"]


def test_bodyless_request_gets_one_empty_message(server_kit: Kit) -> None:
    """ASGI "Request - receive event": a request without a body still gets one http.request
    (body b"", more_body False)."""
    scope = _scope(server_kit, request("GET", "/scope"))
    assert scope["chunks"] == [[0, False]], scope["chunks"]


def test_disconnect_mid_request_reaches_the_app(server_kit: Kit) -> None:
    """ASGI "Disconnect - receive event": a client that leaves before sending its whole body
    makes receive() return http.disconnect."""
    key = server_kit.key()
    with server_kit.connect() as conn:
        conn.send(request("POST", f"/wait?key={key}", ("Content-Length", "1000")) + b"partial")
        time.sleep(0.1)
    assert server_kit.events(key) == ["http.disconnect"]


def test_disconnect_mid_response_reaches_the_app(
    server_kit: Kit, server_observe: Callable[[str], None]
) -> None:
    """ASGI "Disconnect - receive event": a client that leaves during a streamed response
    makes receive() return http.disconnect (send() may also raise OSError); the kit records
    which the app saw first."""
    key = server_kit.key()
    with server_kit.connect() as conn:
        conn.send(request("GET", f"/forever?key={key}"))
        assert conn.read_until(b"\r\n\r\n", 10.0) is not None, "expected a response head"
    events = server_kit.events(key, timeout=15.0)
    assert "http.disconnect" in events, f"expected http.disconnect in the app, got {events}"
    server_observe(", ".join(events))


def test_exception_before_response_is_500_without_traceback(server_kit: Kit) -> None:
    """ASGI "Error Handling": an app that raises before http.response.start gets a 500, and
    nothing of the traceback reaches the client."""
    with server_kit.connect() as conn:
        conn.send(request("GET", "/raise-before"))
        response = conn.read_response()
        assert_no_leak(conn)
    assert response is not None and response.status == 500, describe(response)


def test_exception_after_response_start_ends_the_response(server_kit: Kit) -> None:
    """ASGI "Error Handling": an app that raises after http.response.start cannot change the
    status; the server ends the connection so the client sees an incomplete response, with
    no traceback."""
    with server_kit.connect() as conn:
        conn.send(request("GET", "/raise-after"))
        response = conn.read_response(timeout=10.0)
        closed = conn.closed_by_server(10.0)
        assert_no_leak(conn)
    assert closed, "expected the server to close the connection after the app failed"
    if response is not None:  # over TLS the head may be lost with the aborted connection
        assert response.status == 200, describe(response)
        assert not (response.chunked and response.complete), (
            "expected the failed response not to end with a last chunk, as if complete"
        )


def test_header_injection_from_the_app_never_reaches_the_wire(server_kit: Kit) -> None:
    """RFC 9110 §5.5 and ASGI "Response Start - send event": a header value with CR/LF from
    the app is refused (500, or the connection closed) or sanitised; it never splits the
    response into extra header fields."""
    with server_kit.connect() as conn:
        conn.send(request("GET", "/inject"))
        response = conn.read_response()
        assert_no_leak(conn)
    if response is not None:
        assert response.header("x-evil") is None, f"the app's CR/LF split a header: {response}"


def test_pathsend_extension(server_kit: Kit) -> None:
    """ASGI "Path Send" extension: http.response.pathsend sends the file's bytes."""
    server_kit.require("pathsend")
    response = get(server_kit, request("GET", "/pathsend"))
    assert response.status == 200 and response.body.startswith(b"pathsend and zerocopy"), response


def test_zerocopy_extension(server_kit: Kit) -> None:
    """ASGI "Zero Copy Send" extension: http.response.zerocopy sends the file's bytes."""
    server_kit.require("zerocopy")
    response = get(server_kit, request("GET", "/zerocopy"))
    assert response.status == 200 and response.body.startswith(b"pathsend and zerocopy"), response


def test_extensions_advertised(server_kit: Kit, server_observe: Callable[[str], None]) -> None:
    """ASGI "Extensions": the scope's extensions dict names what the server supports; the
    kit records the names."""
    scope = _scope(server_kit, request("GET", "/scope"))
    server_observe(", ".join(sorted(scope.get("extensions") or {})) or "none")
