"""The ASGI WebSocket interface as a server implements it (ASGI spec, "WebSocket")."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from ._checks import assert_no_leak, describe
from ._frames import (
    BINARY,
    CLOSE,
    TEXT,
    close_payload,
    frame,
    handshake,
    next_close,
    open_websocket,
    read_frame,
    upgrade,
)
from ._kit import Kit


def test_scope_fields(server_kit: Kit) -> None:
    """ASGI WebSocket "Connection Scope": type, asgi version, http_version, scheme ws/wss,
    decoded path, raw query_string, lowercased headers, subprotocols, client and server."""
    conn = open_websocket(
        server_kit, "/ws/scope?x=%20y", ("Sec-WebSocket-Protocol", "a, b"), ("X-Kit", "One")
    )
    with conn:
        found = read_frame(conn)
    assert found is not None and found.opcode == TEXT, found
    scope = json.loads(found.payload)
    assert scope["type"] == "websocket" and scope["asgi"]["version"] == "3.0"
    # "Optional; if missing defaults to "1.1"."
    assert scope.get("http_version", "1.1") in ("1.1", "2")
    assert scope["scheme"] == ("wss" if server_kit.tls else "ws")
    assert (scope["path"], scope["query_string"]) == ("/ws/scope", {"bytes": "x=%20y"})
    assert [{"bytes": "x-kit"}, {"bytes": "One"}] in scope["headers"], scope["headers"]
    assert scope["subprotocols"] == ["a", "b"]
    assert scope["client"][0] == "127.0.0.1" and scope["server"][0] == "127.0.0.1"


def test_close_before_accept_is_403(server_kit: Kit) -> None:
    """ASGI "Close - send event": websocket.close before accept rejects the handshake with
    HTTP 403."""
    conn, response = upgrade(server_kit, handshake("/ws/reject"))
    conn.close()
    assert response is not None and response.status == 403, describe(response)


def test_accept_headers_are_sent(server_kit: Kit) -> None:
    """ASGI "Accept - send event" headers: extra headers of websocket.accept are in the 101."""
    conn, response = upgrade(server_kit, handshake("/ws/headers"))
    conn.close()
    assert response is not None and response.status == 101, describe(response)
    assert response.header("x-kit") == "accepted", response.headers


def test_denial_response_extension(server_kit: Kit) -> None:
    """ASGI "WebSocket Denial Response" extension: websocket.http.response.start/body
    answer the handshake with the app's status and body."""
    server_kit.require("websocket_denial")
    conn, response = upgrade(server_kit, handshake("/ws/deny"))
    conn.close()
    assert response is not None and response.status == 451, describe(response)
    assert response.body == b"denied by the kit"


def test_app_close_code_and_reason_reach_the_client(server_kit: Kit) -> None:
    """ASGI "Close - send event" code and reason, RFC 6455 §5.5.1: the client receives the
    app's close code 4000 and reason."""
    with open_websocket(server_kit, "/ws/close?code=4000&reason=kit-bye") as conn:
        closing = next_close(conn)
    assert closing is not None, "expected a close frame from the server"
    assert (closing.close_code(), closing.payload[2:]) == (4000, b"kit-bye")


def test_text_and_bytes_stay_apart(server_kit: Kit) -> None:
    """ASGI "Receive - receive event": a text frame arrives as text and a binary frame as
    bytes (the echo sends each back with the same opcode)."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(TEXT, b"text") + frame(BINARY, b"\x00\xff"))
        first, second = read_frame(conn), read_frame(conn)
    assert first is not None and (first.opcode, first.payload) == (TEXT, b"text")
    assert second is not None and (second.opcode, second.payload) == (BINARY, b"\x00\xff")


def _disconnect_event(kit: Kit, close: bytes | None) -> list[str]:
    """Close with ``close`` (then wait for the server's close frame) or drop the socket."""
    key = kit.key()
    with open_websocket(kit, f"/ws/echo?key={key}") as conn:
        if close is not None:
            conn.send(close)
            next_close(conn, 5.0)
    return kit.events(key)


def test_client_close_code_reaches_the_app(server_kit: Kit) -> None:
    """ASGI "Disconnect - receive event": the app receives websocket.disconnect with the
    client's close code (4001)."""
    events = _disconnect_event(server_kit, frame(CLOSE, close_payload(4001)))
    assert events and events[0].startswith("disconnect 4001"), events


def test_close_without_code_reaches_the_app_as_1005(server_kit: Kit) -> None:
    """ASGI "Disconnect - receive event" and RFC 6455 §7.1.5: a close frame without a code
    means 1005 (no status received)."""
    events = _disconnect_event(server_kit, frame(CLOSE))
    assert events and events[0].startswith("disconnect 1005"), events


def test_dropped_connection_reaches_the_app_as_1006(server_kit: Kit) -> None:
    """ASGI "Disconnect - receive event" and RFC 6455 §7.1.5: a connection lost without a
    close frame means 1006."""
    events = _disconnect_event(server_kit, None)
    assert events and events[0].startswith("disconnect 1006"), events


def test_close_reason_reaches_the_app(
    server_kit: Kit, server_observe: Callable[[str], None]
) -> None:
    """ASGI spec 2.4 "Disconnect - receive event" reason: whether the client's close reason
    reaches the app (older servers send no reason); the kit records it."""
    events = _disconnect_event(server_kit, frame(CLOSE, close_payload(4002, b"why")))
    server_observe("reason delivered" if events and events[0].endswith("why") else f"{events}")


def test_send_before_accept(server_kit: Kit, server_observe: Callable[[str], None]) -> None:
    """ASGI "Send - send event": the spec does not say what websocket.send before
    websocket.accept does; the kit records what the client sees and what the app saw."""
    key = server_kit.key()
    conn, response = upgrade(server_kit, handshake(f"/ws/send-before-accept?key={key}"))
    conn.close()
    time.sleep(0.2)
    events = server_kit.events(key, timeout=2.0)
    server_observe(f"client got {response.status if response else 'a close'}; app: {events}")


def test_app_exit_before_accept(server_kit: Kit, server_observe: Callable[[str], None]) -> None:
    """ASGI "Connect - receive event": an app that returns without accepting or closing has
    not accepted; the server must not answer 101. The status it answers is recorded."""
    conn, response = upgrade(server_kit, handshake("/ws/exit"))
    conn.close()
    assert response is None or response.status != 101, describe(response)
    server_observe(str(response.status) if response else "closed")


def test_app_exception_after_accept_closes_the_socket(
    server_kit: Kit, server_observe: Callable[[str], None]
) -> None:
    """ASGI "Error Handling" and RFC 6455 §7.4.1: an app that raises after accepting ends the
    connection (the kit records the close code; 1011 is "internal error") and no traceback
    reaches the client."""
    with open_websocket(server_kit, "/ws/raise") as conn:
        closing = next_close(conn, 10.0)
        assert closing is not None or conn.eof, "expected the connection to end"
        assert_no_leak(conn)
    server_observe(
        f"close {closing.close_code()}" if closing else "TCP close without a close frame"
    )
