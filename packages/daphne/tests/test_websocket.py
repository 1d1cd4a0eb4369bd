"""WebSocket behaviour with the `websockets` client library and raw sockets."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time

import httpx
import pytest
import websockets
from daphne._autobahn import unmask
from hypothesis import given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus


def ws_url(server, path):
    return f"ws://{server[0]}:{server[1]}{path}"


async def test_text_and_binary_echo(server):
    async with websockets.connect(ws_url(server, "/ws/echo")) as ws:
        await ws.send("hello \u2713")
        assert await ws.recv() == "hello \u2713"
        await ws.send(b"\x00\x01binary")
        assert await ws.recv() == b"\x00\x01binary"


async def test_scope_of_websocket(server):
    async with websockets.connect(
        ws_url(server, "/ws/scope?x=1"), subprotocols=["chat", "v2"]
    ) as ws:
        scope = json.loads(await ws.recv())
    assert scope["type"] == "websocket"
    assert scope["path"] == "/ws/scope"
    assert scope["query_string"] == "x=1"
    assert scope["scheme"] == "ws"
    assert scope["subprotocols"] == ["chat", "v2"]
    assert scope["state"] == {"started": "yes"}


async def test_close_before_accept_is_403_and_never_opens(server):
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(ws_url(server, "/ws/reject")):
            pass
    assert info.value.response.status_code == 403


async def test_denial_response_extension(server):
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(ws_url(server, "/ws/deny")):
            pass
    response = info.value.response
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.body == b"token required"


async def test_accept_headers_and_subprotocol_are_sent(server):
    async with websockets.connect(ws_url(server, "/ws/headers"), subprotocols=["a", "b"]) as ws:
        assert ws.subprotocol == "b"
        assert ws.response.headers["x-accepted"] == "yes"
        assert ws.response.headers["set-cookie"] == "a=1"


async def test_close_code_and_reason_reach_the_client(server):
    async with websockets.connect(ws_url(server, "/ws/close")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd.code == 4001
    assert info.value.rcvd.reason == "bye now"


async def test_client_close_code_and_reason_reach_the_application(server, record, wait_for):
    async with websockets.connect(ws_url(server, f"/ws/echo?{record.query}")) as ws:
        await ws.close(code=4321, reason="client leaving")
    await asyncio.to_thread(
        wait_for,
        lambda: (
            {"event": "disconnect", "code": 4321, "reason": "client leaving"} in record.events()
        ),
    )


async def test_exception_after_accept_closes_1011(server):
    async with websockets.connect(ws_url(server, "/ws/error")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd.code == 1011
    assert httpx.get(f"http://{server[0]}:{server[1]}/").status_code == 200


async def test_exception_before_accept_is_500(server):
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(ws_url(server, "/ws/error-before")):
            pass
    assert info.value.response.status_code == 500


async def test_connect_timeout_rejects(pool, stack):
    server = pool.get(websocket_connect_timeout=0.5, **stack)
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(ws_url(server, "/ws/never")):
            pass
    assert info.value.response.status_code == 403


async def test_message_too_big_closes_1009(pool, stack):
    server = pool.get(websocket_max_message_size=1000, **stack)
    async with websockets.connect(ws_url(server, "/ws/echo")) as ws:
        await ws.send("x" * 999)
        assert len(await ws.recv()) == 999
        await ws.send("x" * 5000)
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd.code == 1009


async def test_ping_timeout_closes_unresponsive_client(pool, stack):
    server = pool.get(ping_interval=0.3, ping_timeout=0.3, **stack)
    reader, writer = await asyncio.open_connection(*server)
    writer.write(_handshake(server, "/ws/echo"))
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    # Never answer pings: the server must give up on us (it may close or reset).
    frames = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(4096), timeout=30):
            frames += chunk
    except ConnectionResetError:
        pass
    assert frames[0] & 0x0F == 0x9  # it pinged before giving up
    assert reader.at_eof() or writer.transport.is_closing()
    writer.close()


async def test_ping_timeout_fires_when_txaio_was_pointed_elsewhere_before_the_server(
    pool, stack, monkeypatch
):
    """Autobahn's timers use txaio's one global loop. Code that made an Autobahn factory
    before daphne started (here: this process, inherited through fork by the test server)
    must not leave ping timeouts on a reactor that never runs."""
    import txaio
    from twisted.internet.testing import MemoryReactorClock

    monkeypatch.setattr(txaio.config, "loop", MemoryReactorClock())
    server = pool.get(ping_interval=0.2, ping_timeout=0.2, **stack)
    reader, writer = await asyncio.open_connection(*server)
    writer.write(_handshake(server, "/ws/echo"))
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    try:
        while await asyncio.wait_for(reader.read(4096), timeout=30):
            pass
    except ConnectionResetError:
        pass
    writer.close()


async def test_deflate_is_negotiated_only_when_enabled(pool, server):
    async with websockets.connect(ws_url(server, "/ws/echo"), compression="deflate") as ws:
        assert "sec-websocket-extensions" not in ws.response.headers
    on = pool.get(websocket_per_message_deflate=True, websocket_deflate_window_bits=10)
    async with websockets.connect(ws_url(on, "/ws/echo"), compression="deflate") as ws:
        extension = ws.response.headers["sec-websocket-extensions"]
        assert "permessage-deflate" in extension
        assert "client_max_window_bits=10" in extension  # the client is asked to use our window
        await ws.send("z" * 10000)
        assert await ws.recv() == "z" * 10000


def _handshake(server, path, *, key=None, version=b"13", extra=b""):
    key = key if key is not None else base64.b64encode(os.urandom(16))
    return (
        b"GET "
        + path.encode()
        + b" HTTP/1.1\r\nHost: %s:%d\r\n" % (server[0].encode(), server[1])
        + b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
        + key
        + b"\r\nSec-WebSocket-Version: "
        + version
        + b"\r\n"
        + extra
        + b"\r\n"
    )


@pytest.mark.parametrize(
    ("name", "kwargs", "status"),
    [
        ("bad key", {"key": b"not-base64!!"}, 400),
        ("short key", {"key": base64.b64encode(b"short")}, 400),
        ("wrong version", {"version": b"8"}, 426),
    ],
)
def test_invalid_handshake_is_refused_before_the_app(server, raw, record, name, kwargs, status):
    reply = raw(server, _handshake(server, f"/ws/echo?{record.query}", **kwargs))
    assert reply.startswith(b"HTTP/1.1 %d " % status), reply[:100]
    if status == 426:
        assert b"sec-websocket-version: 13" in reply.lower()
    assert record.events() == []


def test_handshake_without_host_is_refused_when_host_is_required(pool, stack, raw):
    strict = pool.get(require_host=True, **stack)
    request = _handshake(strict, "/ws/echo").replace(
        b"Host: %s:%d\r\n" % (strict[0].encode(), strict[1]), b""
    )
    assert raw(strict, request).startswith(b"HTTP/1.1 400 ")


def _masked_frame(opcode, payload, fin=True, mask=True, force16=False):
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    if length < 126 and not force16:
        header = struct.pack("!BB", first, (0x80 if mask else 0) | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, (0x80 if mask else 0) | 126, length)
    else:
        header = struct.pack("!BBQ", first, (0x80 if mask else 0) | 127, length)
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def _open_raw(server):
    sock = socket.create_connection(server, timeout=10)
    sock.sendall(_handshake(server, "/ws/echo"))
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    return sock


def _close_code(sock):
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except OSError:
        pass
    assert data, "expected a close frame"
    assert data[0] & 0x0F == 0x8, data[:10]
    return struct.unpack("!H", data[2:4])[0]


@pytest.mark.parametrize(
    ("name", "frame", "code"),
    [
        ("unmasked client frame", _masked_frame(0x1, b"hi", mask=False), 1002),
        ("reserved opcode", _masked_frame(0x3, b"hi"), 1002),
        ("invalid utf-8 text", _masked_frame(0x1, b"\xff\xfe"), 1007),
        ("fragmented control frame", _masked_frame(0x9, b"p", fin=False), 1002),
    ],
)
def test_invalid_frames_close_with_protocol_error(server, name, frame, code):
    sock = _open_raw(server)
    sock.sendall(frame)
    assert _close_code(sock) == code
    sock.close()
    assert httpx.get(f"http://{server[0]}:{server[1]}/").status_code == 200


def test_frames_sent_right_behind_the_handshake_are_kept(server):
    sock = socket.create_connection(server, timeout=10)
    sock.sendall(_handshake(server, "/ws/echo") + _masked_frame(0x1, b"early"))
    data = b""
    while b"early" not in data:
        data += sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 101")
    sock.close()


async def test_slow_websocket_reader_bounds_what_the_application_sends(server, record):
    reader, writer = await asyncio.open_connection(*server, limit=2**16)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    writer.write(_handshake(server, f"/ws/flood?{record.query}"))
    await reader.readuntil(b"\r\n\r\n")
    writer.write(_masked_frame(0x1, b"4000"))  # asks for 4000 x 64 KiB = 250 MiB
    transport = writer.transport
    transport.pause_reading()

    def sent():
        return sum(1 for e in record.events() if e == {"event": "sent"})

    last, since = -1, time.monotonic()
    while time.monotonic() - since < 1.0:
        await asyncio.sleep(0.1)
        if sent() != last:
            last, since = sent(), time.monotonic()
    assert 0 < last < 1000, f"app sent {last} x 64 KiB to a stalled reader"
    writer.close()


async def test_frame_larger_than_limit_closes_1009(pool):
    server = pool.get(websocket_max_frame_size=2000)
    async with websockets.connect(ws_url(server, "/ws/echo")) as ws:
        await ws.send("y" * 1999)
        assert len(await ws.recv()) == 1999
        await ws.send("y" * 3000)
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd.code == 1009


async def test_websocket_timeout_closes_long_lived_socket(pool):
    server = pool.get(websocket_timeout=0.5)
    async with websockets.connect(ws_url(server, "/ws/echo")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd.code == 1000


async def test_accepting_an_unoffered_subprotocol_is_an_app_error(server):
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(ws_url(server, "/ws/bad-subprotocol"), subprotocols=["a"]):
            pass
    assert info.value.response.status_code == 500


async def test_invalid_send_message_closes_1011(server):
    async with websockets.connect(ws_url(server, "/ws/bad-send")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd.code == 1011


def _read_frames(sock, count):
    """Read ``count`` unmasked server frames; return [(opcode, payload)]."""
    data = b""
    frames = []
    while len(frames) < count:
        while True:
            if len(data) >= 2:
                length = data[1] & 0x7F
                offset = 2
                if length == 126 and len(data) >= 4:
                    length, offset = struct.unpack("!H", data[2:4])[0], 4
                elif length == 127 and len(data) >= 10:
                    length, offset = struct.unpack("!Q", data[2:10])[0], 10
                if (length < 126 or offset > 2) and len(data) >= offset + length:
                    frames.append((data[0] & 0x0F, data[offset : offset + length]))
                    data = data[offset + length :]
                    break
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {frames}"
            data += chunk
    return frames


def test_fragmented_and_large_frames_take_the_slow_path_correctly(server):
    sock = _open_raw(server)
    big = os.urandom(70_000)
    sock.sendall(
        _masked_frame(0x1, b"frag", fin=False)
        + _masked_frame(0x0, b"mented", fin=True)
        + _masked_frame(0x2, big)
        + _masked_frame(0x9, b"are you there")
        + _masked_frame(0x1, "x\u00e9".encode() * 200)
    )
    frames = _read_frames(sock, 4)
    assert (0x1, b"fragmented") in frames
    assert (0x2, big) in frames
    assert (0xA, b"are you there") in frames
    assert (0x1, "x\u00e9".encode() * 200) in frames
    sock.close()


def test_frames_split_across_reads_and_batched_in_one(server):
    sock = _open_raw(server)
    stream = b"".join(_masked_frame(0x1, b"m%d" % i) for i in range(50))
    stream += _masked_frame(0x2, b"y" * 300)
    for i in range(0, len(stream), 7):
        sock.sendall(stream[i : i + 7])
    frames = _read_frames(sock, 51)
    assert frames[:50] == [(0x1, b"m%d" % i) for i in range(50)]
    assert frames[50] == (0x2, b"y" * 300)
    sock.close()


def test_non_minimal_length_encoding_is_a_protocol_error(server):
    sock = _open_raw(server)
    sock.sendall(_masked_frame(0x1, b"short", force16=True))
    assert _close_code(sock) == 1002
    sock.close()


@given(mask=st.binary(min_size=4, max_size=4), payload=st.binary(max_size=300))
def test_unmask_matches_the_rfc_definition(mask, payload):
    expected = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert unmask(mask, payload) == expected


async def test_invalid_close_code_from_app_becomes_1011(server):
    async with websockets.connect(ws_url(server, "/ws/bad-close")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd.code == 1011


async def test_long_close_reason_is_truncated_to_valid_utf8(server):
    async with websockets.connect(ws_url(server, "/ws/long-reason")) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd.code == 4002
    assert info.value.rcvd.reason == "\u00e9" * 61


async def test_connect_timeout_minus_one_means_no_limit(pool):
    server = pool.get(websocket_connect_timeout=-1, websocket_timeout=-1)
    async with websockets.connect(ws_url(server, "/ws/slow-accept")) as ws:
        await ws.send("still here")
        assert await ws.recv() == "still here"
