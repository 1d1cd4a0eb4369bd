"""WebSocket framing, UTF-8 and the closing handshake (RFC 6455 §5, §7, §8)."""

from __future__ import annotations

import select
import struct

import pytest

from ._frames import (
    BINARY,
    CLOSE,
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    close_payload,
    frame,
    masked_fast,
    next_close,
    open_websocket,
    read_frame,
)
from ._kit import Kit
from ._wire import Connection


def _closed_with(conn: Connection, codes: set[int], what: str) -> None:
    """The server fails the connection: a close frame with one of ``codes``, or a TCP close."""
    closing = next_close(conn, 10.0)
    if closing is None:
        assert conn.eof, f"expected a close ({sorted(codes)}) after {what}, the socket stayed open"
        return
    code = closing.close_code()
    assert code in codes, f"expected close code {sorted(codes)} after {what}, got " + (
        f"close code {code}" if code is not None else "a close frame without a code"
    )


@pytest.mark.parametrize("size", [5, 125, 126, 65535, 65536, 300_000])
def test_payload_lengths_round_trip(server_kit: Kit, size: int) -> None:
    """RFC 6455 §5.2: 7-bit, 16-bit and 64-bit payload lengths (at each boundary) are read
    correctly; the echo returns the same bytes."""
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    with open_websocket(server_kit) as conn:
        conn.send(masked_fast(BINARY, payload))
        echoed = read_frame(conn)
    assert echoed is not None and echoed.payload == payload, "expected the payload echoed whole"


def test_unmasked_client_frame_fails_the_connection(server_kit: Kit) -> None:
    """RFC 6455 §5.1: a server MUST close the connection on an unmasked client frame
    (1002)."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(TEXT, b"unmasked", mask=False))
        _closed_with(conn, {1002}, "an unmasked frame")


@pytest.mark.parametrize("rsv", [1, 2, 4])
def test_reserved_bits_fail_the_connection(server_kit: Kit, rsv: int) -> None:
    """RFC 6455 §5.2: a non-zero RSV bit without a negotiated extension fails the
    connection (1002)."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(TEXT, b"rsv", rsv=rsv))
        _closed_with(conn, {1002}, f"RSV bits {rsv:03b}")


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcodes_fail_the_connection(server_kit: Kit, opcode: int) -> None:
    """RFC 6455 §5.2: a reserved opcode fails the connection (1002)."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(opcode, b"x"))
        _closed_with(conn, {1002}, f"opcode {opcode:#x}")


BAD_SEQUENCES = {
    "control-too-long": frame(PING, b"p" * 126),
    "fragmented-control": frame(PING, b"p", fin=False),
    "continuation-without-start": frame(CONTINUATION, b"x"),
    "new-message-inside-fragmented": frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"),
}


@pytest.mark.parametrize("variant", list(BAD_SEQUENCES))
def test_invalid_frame_sequences_fail_the_connection(server_kit: Kit, variant: str) -> None:
    """RFC 6455 §5.4 and §5.5: control frames are at most 125 bytes and never fragmented; a
    continuation needs a started message and a new data frame may not interrupt one."""
    with open_websocket(server_kit) as conn:
        conn.send(BAD_SEQUENCES[variant])
        _closed_with(conn, {1002}, variant)


def test_fragmented_message_with_interleaved_ping(server_kit: Kit) -> None:
    """RFC 6455 §5.4 and §5.5.2: control frames may be injected between fragments; the ping
    is answered with a pong carrying its payload and the fragments join into one message."""
    with open_websocket(server_kit) as conn:
        conn.send(
            frame(TEXT, b"hel", fin=False) + frame(PING, b"kit-ping") + frame(CONTINUATION, b"lo")
        )
        first, second = read_frame(conn), read_frame(conn)
    assert first is not None and (first.opcode, first.payload) == (PONG, b"kit-ping"), first
    assert second is not None and (second.opcode, second.payload) == (TEXT, b"hello"), second


@pytest.mark.parametrize("size", [0, 125])
def test_ping_is_answered_with_its_payload(server_kit: Kit, size: int) -> None:
    """RFC 6455 §5.5.2 and §5.5.3: a ping (0 to 125 bytes) is answered by a pong with the
    same application data."""
    payload = b"p" * size
    with open_websocket(server_kit) as conn:
        conn.send(frame(PING, payload))
        answer = read_frame(conn)
    assert answer is not None and (answer.opcode, answer.payload) == (PONG, payload), answer


def test_empty_text_message_round_trips(server_kit: Kit) -> None:
    """RFC 6455 §5.6: a text message may be empty (a zero-length final frame)."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(TEXT, b""))
        echoed = read_frame(conn)
    assert echoed is not None and (echoed.opcode, echoed.payload) == (TEXT, b""), echoed


def test_unsolicited_pong_is_ignored(server_kit: Kit) -> None:
    """RFC 6455 §5.5.3: an unsolicited pong needs no response; the connection goes on."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(PONG, b"unasked") + frame(TEXT, b"still here"))
        echoed = read_frame(conn)
    assert echoed is not None and echoed.payload == b"still here", echoed


def test_text_split_inside_a_code_point_is_valid(server_kit: Kit) -> None:
    """RFC 6455 §5.6 and §8.1: UTF-8 is checked over the whole message, so a text message
    fragmented in the middle of a code point is valid."""
    text = "café ☃".encode()
    with open_websocket(server_kit) as conn:
        conn.send(frame(TEXT, text[:4], fin=False) + frame(CONTINUATION, text[4:]))
        echoed = read_frame(conn)
    assert echoed is not None and echoed.payload == text, echoed


INVALID_UTF8 = {
    "lone-continuation-byte": [b"\x80"],
    "overlong": [b"\xc0\xaf"],
    "surrogate": [b"\xed\xa0\x80"],
    "above-u10ffff": [b"\xf4\x90\x80\x80"],
    "truncated-across-fragments": [b"ok\xc3", b"("],
    "invalid-in-last-fragment": [b"fine", b"\xff"],
}


@pytest.mark.parametrize("variant", list(INVALID_UTF8))
def test_invalid_utf8_text_closes_1007(server_kit: Kit, variant: str) -> None:
    """RFC 6455 §8.1: a text message that is not valid UTF-8 (also when split over
    fragments) fails the connection with 1007."""
    parts = INVALID_UTF8[variant]
    frames = [
        frame(TEXT if index == 0 else CONTINUATION, part, fin=index == len(parts) - 1)
        for index, part in enumerate(parts)
    ]
    with open_websocket(server_kit) as conn:
        conn.send(b"".join(frames))
        _closed_with(conn, {1007}, f"invalid UTF-8 ({variant})")


VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_close_code_is_echoed(server_kit: Kit, code: int) -> None:
    """RFC 6455 §5.5.1 and §7.4: the server answers a close frame with a close frame that
    echoes the (valid) status code it received, then closes TCP."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(CLOSE, close_payload(code, b"kit")))
        closing = next_close(conn, 10.0)
        assert closing is not None, f"expected a close frame answering close code {code}"
        assert closing.close_code() == code, f"expected {code} echoed, got {closing.close_code()}"
        assert conn.closed_by_server(10.0), "expected the server to close TCP after the close"


@pytest.mark.parametrize("code", INVALID_CODES)
def test_invalid_close_code_is_a_protocol_error(server_kit: Kit, code: int) -> None:
    """RFC 6455 §7.4.1 and §7.4.2: a close code that is reserved, unassigned or out of range
    fails the connection with 1002."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(CLOSE, struct.pack("!H", code)))
        _closed_with(conn, {1002}, f"close code {code}")


def test_one_byte_close_payload_is_a_protocol_error(server_kit: Kit) -> None:
    """RFC 6455 §5.5.1: a close payload is empty or starts with a 2-byte code; one byte
    fails the connection (1002)."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(CLOSE, b"\x03"))
        _closed_with(conn, {1002}, "a one-byte close payload")


def test_close_reason_must_be_utf8(server_kit: Kit) -> None:
    """RFC 6455 §5.5.1 and §8.1: a close reason that is not UTF-8 fails the connection
    (1007, or 1002)."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(CLOSE, close_payload(1000, b"\xff\xfe")))
        _closed_with(conn, {1007, 1002}, "a non-UTF-8 close reason")


def test_empty_close_is_answered(server_kit: Kit) -> None:
    """RFC 6455 §5.5.1: an empty close frame is answered with a close frame (empty, or
    1000) and the server closes TCP."""
    with open_websocket(server_kit) as conn:
        conn.send(frame(CLOSE))
        closing = next_close(conn, 10.0)
        assert closing is not None, "expected a close frame in answer"
        assert closing.close_code() in (None, 1000), closing


def test_huge_frame_length_closes_1009(server_kit: Kit) -> None:
    """RFC 6455 §7.4.1 (1009): a frame header announcing 2**62 bytes is refused at once with
    1009 (message too big), without waiting for the payload."""
    with open_websocket(server_kit) as conn:
        conn.send(bytes([0x82, 0xFF]) + struct.pack("!Q", 1 << 62) + b"\x00" * 4 + b"x" * 1024)
        _closed_with(conn, {1009}, "a 2**62-byte frame header")


def test_message_over_the_limit_closes_1009(server_kit: Kit) -> None:
    """RFC 6455 §7.4.1 (1009): a message, sent in 1 MiB fragments, that grows past the
    server's limit (--server-ws-max-message, default 16 MiB) closes the connection with
    1009."""
    piece = b"m" * (1 << 20)
    count = server_kit.options.ws_max_message // len(piece) + 2
    with open_websocket(server_kit) as conn:
        for index in range(count):
            opcode = BINARY if index == 0 else CONTINUATION
            if not conn.send(masked_fast(opcode, piece, fin=index == count - 1)):
                break
            if select.select([conn.sock], [], [], 0)[0]:
                break  # the server answered already
        _closed_with(conn, {1009}, f"a message of {count} MiB")
