"""permessage-deflate negotiation and use (RFC 7692)."""

from __future__ import annotations

import zlib

import pytest

from ._checks import describe
from ._frames import TEXT, frame, handshake, read_frame, upgrade
from ._kit import Kit
from ._wire import Response

EXTENSIONS = "Sec-WebSocket-Extensions"


def _offer(kit: Kit, offer: str) -> Response:
    conn, response = upgrade(kit, handshake("/ws/echo", (EXTENSIONS, offer)))
    conn.close()
    assert response is not None and response.status == 101, describe(response)
    return response


def _params(response: Response) -> dict[str, str] | None:
    """The accepted permessage-deflate parameters, or None when the offer was declined."""
    value = response.header("sec-websocket-extensions")
    if not value or "permessage-deflate" not in value:
        return None
    parts = [part.strip() for part in value.split(";")]
    assert parts[0] == "permessage-deflate", f"expected one permessage-deflate, got {value!r}"
    params: dict[str, str] = {}
    for part in parts[1:]:
        name, _, arg = part.partition("=")
        assert name not in params, f"expected each parameter once (RFC 7692 §7), got {value!r}"
        params[name.strip()] = arg.strip().strip('"')
    return params


def test_offer_is_accepted_with_valid_parameters(server_kit: Kit) -> None:
    """RFC 7692 §5 and §7.1: the server accepts an offer with parameters it may use; a
    client_max_window_bits without value may be answered with a value in 8-15."""
    server_kit.require("deflate")
    params = _params(_offer(server_kit, "permessage-deflate; client_max_window_bits"))
    assert params is not None, "expected permessage-deflate to be accepted"
    allowed = {"server_no_context_takeover", "client_no_context_takeover"}
    allowed |= {"server_max_window_bits", "client_max_window_bits"}
    assert set(params) <= allowed, params
    for name in ("server_max_window_bits", "client_max_window_bits"):
        if params.get(name):
            assert 8 <= int(params[name]) <= 15, params


def test_server_no_context_takeover_is_honoured(server_kit: Kit) -> None:
    """RFC 7692 §7.1.1.1: a server that accepts an offer containing
    server_no_context_takeover includes it in its response."""
    server_kit.require("deflate")
    params = _params(_offer(server_kit, "permessage-deflate; server_no_context_takeover"))
    assert params is None or "server_no_context_takeover" in params, params


def test_server_max_window_bits_is_respected(server_kit: Kit) -> None:
    """RFC 7692 §7.1.2.1: a server accepting server_max_window_bits=10 answers with a value
    no larger than 10."""
    server_kit.require("deflate")
    params = _params(_offer(server_kit, "permessage-deflate; server_max_window_bits=10"))
    assert params is None or 8 <= int(params.get("server_max_window_bits") or 99) <= 10, params


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; unknown_parameter",
    ],
)
def test_invalid_offer_is_declined(server_kit: Kit, offer: str) -> None:
    """RFC 7692 §5 and §7.1: an offer with an invalid or unknown parameter is declined (the
    response names no permessage-deflate) or the handshake fails; never accepted as is."""
    server_kit.require("websocket")
    conn, response = upgrade(server_kit, handshake("/ws/echo", (EXTENSIONS, offer)))
    conn.close()
    if response is not None and response.status == 101:
        assert _params(response) is None, f"expected {offer!r} declined, got {response.headers}"


def test_compressed_message_round_trip(server_kit: Kit) -> None:
    """RFC 7692 §6 and §7.2: a message compressed by the client (RSV1, trailing 00 00 ff ff
    removed) is inflated for the app; the echo, compressed or not, carries the text."""
    server_kit.require("deflate")
    text = b"compress me " * 50
    raw = handshake("/ws/echo", (EXTENSIONS, "permessage-deflate"))
    conn, response = upgrade(server_kit, raw)
    with conn:
        assert response is not None and _params(response) is not None, describe(response)
        compressor = zlib.compressobj(wbits=-15)
        data = compressor.compress(text) + compressor.flush(zlib.Z_SYNC_FLUSH)
        conn.send(frame(TEXT, data[:-4], rsv=4))
        echoed = read_frame(conn)
    assert echoed is not None and echoed.opcode == TEXT, echoed
    payload = echoed.payload
    if echoed.rsv & 4:
        payload = zlib.decompressobj(wbits=-15).decompress(payload + b"\x00\x00\xff\xff")
    assert payload == text
