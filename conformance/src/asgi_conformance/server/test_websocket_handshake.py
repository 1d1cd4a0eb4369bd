"""The WebSocket opening handshake (RFC 6455 §4) as the server must validate it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ._checks import describe
from ._frames import KEY, accept_for, handshake, upgrade
from ._kit import Kit


def test_valid_handshake_is_switched(server_kit: Kit) -> None:
    """RFC 6455 §4.2.2: a valid handshake gets 101 with Upgrade: websocket, Connection:
    Upgrade and Sec-WebSocket-Accept derived from the key."""
    conn, response = upgrade(server_kit, handshake("/ws/echo"))
    conn.close()
    assert response is not None and response.status == 101, describe(response)
    assert (response.header("upgrade") or "").lower() == "websocket"
    assert "upgrade" in (response.header("connection") or "").lower()
    assert response.header("sec-websocket-accept") == accept_for(KEY)


@pytest.mark.parametrize(
    ("connection", "upgrade_token"),
    [("keep-alive, Upgrade", "websocket"), ("upgrade", "WebSocket")],
)
def test_tokens_are_case_insensitive_lists(
    server_kit: Kit, connection: str, upgrade_token: str
) -> None:
    """RFC 6455 §4.2.1 and RFC 9110 §7.6.1: Connection is a token list and tokens compare
    case-insensitively; the handshake succeeds."""
    raw = handshake("/ws/echo", ("Connection", connection), ("Upgrade", upgrade_token))
    conn, response = upgrade(server_kit, raw)
    conn.close()
    assert response is not None and response.status == 101, describe(response)


INVALID = {
    "post-method": handshake("/ws/echo", method="POST"),
    "http10": handshake("/ws/echo", version="HTTP/1.0"),
    "no-key": handshake("/ws/echo", omit=("Sec-WebSocket-Key",)),
    "short-key": handshake("/ws/echo", ("Sec-WebSocket-Key", "c2hvcnQ=")),
    "key-not-base64": handshake("/ws/echo", ("Sec-WebSocket-Key", "!" * 22 + "==")),
    "no-upgrade-header": handshake("/ws/echo", omit=("Upgrade",)),
    "upgrade-not-websocket": handshake("/ws/echo", ("Upgrade", "h2c")),
    "connection-without-upgrade": handshake("/ws/echo", ("Connection", "keep-alive")),
    "two-keys": handshake("/ws/echo").replace(
        b"\r\n\r\n", b"\r\nSec-WebSocket-Key: eHh4eHh4eHh4eHh4eHh4eA==\r\n\r\n"
    ),
}


@pytest.mark.parametrize("variant", list(INVALID))
def test_invalid_handshake_is_not_switched(server_kit: Kit, variant: str) -> None:
    """RFC 6455 §4.1 and §4.2.1: the method MUST be GET in HTTP/1.1 or later, with Upgrade:
    websocket, a Connection: Upgrade token and one 16-byte base64 key (§11.3.1); a POST carrying
    WebSocket headers must never get 101."""
    raw = INVALID[variant]
    conn, response = upgrade(server_kit, raw)
    conn.close()
    assert response is None or response.status != 101, (
        f"expected no 101 for the invalid handshake ({variant}), got {describe(response)}"
    )


@pytest.mark.parametrize("version", ["8", "14", "", "abc"])
def test_unsupported_version_names_version_13(server_kit: Kit, version: str) -> None:
    """RFC 6455 §4.2.2 item 4 and §4.4: an unsupported Sec-WebSocket-Version aborts the
    handshake with an error status (426) and a Sec-WebSocket-Version: 13 header."""
    raw = handshake("/ws/echo", ("Sec-WebSocket-Version", version))
    conn, response = upgrade(server_kit, raw)
    conn.close()
    assert response is not None and 400 <= response.status < 500, describe(response)
    assert "13" in (response.header("sec-websocket-version") or ""), (
        f"expected Sec-WebSocket-Version: 13 in the refusal, got {response.headers}"
    )


def test_subprotocol_chosen_by_the_app_is_sent(server_kit: Kit) -> None:
    """RFC 6455 §4.2.2 and ASGI websocket.accept "subprotocol": the app's choice among the
    offered subprotocols is the Sec-WebSocket-Protocol of the 101."""
    raw = handshake("/ws/echo?pick=kit.v1", ("Sec-WebSocket-Protocol", "kit.v2, kit.v1"))
    conn, response = upgrade(server_kit, raw)
    conn.close()
    assert response is not None and response.status == 101, describe(response)
    assert response.header("sec-websocket-protocol") == "kit.v1", response.headers


def test_no_subprotocol_header_when_none_chosen(server_kit: Kit) -> None:
    """RFC 6455 §4.2.2: when the app accepts without a subprotocol the 101 carries no
    Sec-WebSocket-Protocol (the client would fail the connection otherwise)."""
    raw = handshake("/ws/echo", ("Sec-WebSocket-Protocol", "kit.v2"))
    conn, response = upgrade(server_kit, raw)
    conn.close()
    assert response is not None and response.status == 101, describe(response)
    assert response.header("sec-websocket-protocol") is None, response.headers


def test_handshake_refusal_status(server_kit: Kit, server_observe: Callable[[str], None]) -> None:
    """RFC 6455 §4.2.1: which error status a request with Upgrade: websocket but no key
    gets is the server's choice; the kit records it."""
    conn, response = upgrade(server_kit, handshake("/ws/echo", omit=("Sec-WebSocket-Key",)))
    conn.close()
    server_observe(str(response.status) if response else "closed")
