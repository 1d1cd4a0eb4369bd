"""A hostile client's view: requests that try to smuggle, spoof, exhaust or confuse the server.

Every test talks to a real server process over 127.0.0.1 on both stacks (httptools on uvloop,
the pure-Python parser on asyncio), mostly with raw sockets, since well-behaved client
libraries refuse to send these requests.
"""

from __future__ import annotations

import json
import socket

import httpx
import pytest
import websockets

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
WS_HEADERS = b"Sec-WebSocket-Key: " + KEY + b"\r\nSec-WebSocket-Version: 13\r\n"


def status_of(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1."), reply[:200]
    return int(reply.split(b" ", 2)[1])


def responses_in(reply: bytes) -> int:
    return reply.count(b"HTTP/1.1 ")


# Upgrades --------------------------------------------------------------------------------


def test_post_asking_for_a_websocket_is_refused_and_its_body_never_read_as_frames(server, raw):
    # A masked text frame as the body: a server that switched would echo it as a message.
    frame = b"\x81\x85\x00\x00\x00\x00hello"
    reply = raw(
        server,
        b"POST /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + WS_HEADERS
        + b"Content-Length: %d\r\n\r\n" % len(frame)
        + frame,
    )
    assert status_of(reply) == 400
    assert b"101" not in reply.split(b"\r\n", 1)[0]
    assert b"hello" not in reply


@pytest.mark.parametrize("method", [b"PUT", b"DELETE", b"OPTIONS", b"HEAD"])
def test_only_get_may_open_a_websocket(server, raw, method):
    reply = raw(
        server,
        method
        + b" /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + WS_HEADERS
        + b"\r\n",
    )
    assert status_of(reply) == 400


@pytest.mark.parametrize(
    "upgrade", [b"websocketx", b"not-websocket", b"web socket", b"xwebsocket, h2c"]
)
def test_upgrade_must_name_the_websocket_token(server, raw, upgrade):
    reply = raw(
        server,
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: "
        + upgrade
        + b"\r\nConnection: Upgrade\r\n"
        + WS_HEADERS
        + b"\r\n",
    )
    # Not a WebSocket handshake: an upgrade the server does not speak, answered as plain HTTP.
    assert status_of(reply) == 200
    assert b"Hello, world!" in reply


@pytest.mark.parametrize("upgrade", [b"WebSocket", b"h2c, websocket", b"foo , websocket"])
def test_websocket_token_is_found_in_a_list_in_any_case(server, upgrade):
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(
            b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: "
            + upgrade
            + b"\r\nConnection: keep-alive, UPGRADE\r\n"
            + WS_HEADERS
            + b"\r\n"
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 101 ")


def test_connection_must_list_the_upgrade_token(server, raw):
    reply = raw(
        server,
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgraded, close\r\n"
        + WS_HEADERS
        + b"\r\n",
    )
    assert status_of(reply) == 200
    assert b"Hello, world!" in reply


# Host ------------------------------------------------------------------------------------


NO_HOST = b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"
WS_NO_HOST = b"GET /ws/echo HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + WS_HEADERS


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET /ws/echo HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\n" + WS_HEADERS + b"\r\n",
    ],
    ids=["1.1-two", "1.1-two-same", "1.0-two", "ws-two"],
)
def test_a_repeated_host_is_400(server, raw, head):
    reply = raw(server, head)
    assert status_of(reply) == 400, reply[:200]


def _head_of_reply(address, request: bytes) -> bytes:
    """Send ``request`` and read the reply's head only (an open WebSocket never closes)."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply


def test_http11_without_host_is_served_by_default_as_daphne_4_did(server, raw):
    assert status_of(raw(server, NO_HOST)) == 200
    assert status_of(_head_of_reply(server, WS_NO_HOST + b"\r\n")) == 101


@pytest.mark.parametrize("head", [NO_HOST, WS_NO_HOST + b"\r\n"], ids=["http", "ws"])
def test_require_host_answers_400_to_http11_without_host(pool, stack, raw, head):
    strict = pool.get(require_host=True, **stack)
    reply = raw(strict, head)
    assert status_of(reply) == 400, reply[:200]
    assert b"Host" in reply


@pytest.mark.parametrize("value", [b"exa mple.test", b"user@kit.test", b"kit.test/path", b"a:b:c"])
def test_a_host_that_is_not_host_and_port_is_400(server, raw, value):
    reply = raw(server, b"GET / HTTP/1.1\r\nHost: " + value + b"\r\n\r\n")
    assert status_of(reply) == 400


@pytest.mark.parametrize("value", [b"example.test:8000", b"[2001:db8::1]:443", b"10.0.0.1", b""])
def test_a_valid_or_empty_host_is_served(server, raw, value):
    reply = raw(server, b"GET / HTTP/1.1\r\nHost: " + value + b"\r\nConnection: close\r\n\r\n")
    assert status_of(reply) == 200


def test_http10_without_host_is_served(server, raw):
    reply = raw(server, b"GET / HTTP/1.0\r\n\r\n")
    assert status_of(reply) == 200


# Methods ---------------------------------------------------------------------------------


def test_an_overlong_method_is_refused(server, raw):
    reply = raw(server, b"A" * 100_000 + b" / HTTP/1.1\r\nHost: x\r\n\r\n")
    # 501 (RFC 9112 3: longer than any method the server implements) from the Python parser;
    # httptools only knows registered methods and answers 400.
    assert status_of(reply) in (400, 501)
    assert b"AAAA" not in reply


def test_a_registered_long_method_still_works(server):
    response = httpx.request("MKCALENDAR", f"http://{server[0]}:{server[1]}/scope")
    assert response.json()["method"] == "MKCALENDAR"


# Trailers --------------------------------------------------------------------------------

CHUNKED_HEAD = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


def test_a_small_trailer_is_accepted(server, raw):
    head = CHUNKED_HEAD.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")
    reply = raw(server, head + b"5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n")
    assert status_of(reply) == 200
    assert reply.endswith(b"hello")


@pytest.mark.parametrize("shape", ["one-field", "many-fields"])
def test_an_oversized_trailer_is_431(server, raw, shape):
    if shape == "one-field":
        trailer = b"X-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    else:
        trailer = b"".join(b"X-T: " + b"b" * 1000 + b"\r\n" for _ in range(50)) + b"\r\n"
    reply = raw(server, CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n" + trailer)
    assert status_of(reply) == 431


def _memory(address) -> dict[str, int]:
    return dict(httpx.get(f"http://{address[0]}:{address[1]}/rss").json())


def test_an_endless_trailer_does_not_grow_the_server(pool, stack):
    # A server process of its own, so that no other test has raised its peak before.
    address = pool.get("hostile_apps:app", **stack)
    before = _memory(address)
    block = b"a" * 65536
    sent = 0
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nX-Big: ")
        try:
            while sent < 64 * 1024 * 1024:  # bounded: 64 MiB unless the server stops us first
                sock.sendall(block)
                sent += len(block)
            sock.sendall(b"\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: what a bounded trailer looks like
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except OSError:
            pass
    after = _memory(address)
    grown = (after["peak_kib"] - before["peak_kib"]) // 1024
    assert grown < 16, f"the server's peak RSS grew by {grown} MiB from one trailer"
    assert sent < 64 * 1024 * 1024, "the server read a 64 MiB trailer to the end"
    if reply:
        assert status_of(reply) == 431


# Pipelining and half-close ---------------------------------------------------------------


def _pipeline_then_half_close(address, requests: bytes) -> bytes:
    with socket.create_connection(address, timeout=20) as sock:
        sock.sendall(requests)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


@pytest.mark.parametrize("count", [1, 2, 1000])
def test_every_pipelined_response_arrives_before_a_half_close_is_honoured(server, count):
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    reply = _pipeline_then_half_close(server, request * count)
    assert responses_in(reply) == count
    assert reply.endswith(b"Hello, world!")


def test_a_slow_last_response_still_arrives_after_a_half_close(server):
    requests = (
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /slow-response?s=0.3 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    reply = _pipeline_then_half_close(server, requests)
    assert responses_in(reply) == 3
    assert reply.endswith(b"finished")


def test_half_close_inside_a_body_ends_the_connection(server, record, wait_for):
    with socket.create_connection(server, timeout=20) as sock:
        sock.sendall(
            b"POST /wait-disconnect?" + record.query.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 10\r\n\r\nabc"
        )
        wait_for(lambda: {"event": "started"} in record.events())
        sock.shutdown(socket.SHUT_WR)
        # The rest of the body can never come: the application hears http.disconnect and the
        # server closes (no response is owed for a request that was never complete).
        while sock.recv(65536):
            pass
    wait_for(lambda: {"event": "disconnect"} in record.events())


def test_half_close_of_an_idle_connection_closes_it(server):
    with socket.create_connection(server, timeout=20) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert status_of(first) == 200
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(65536) == b""


# Proxy headers ---------------------------------------------------------------------------

X_HEADERS = {
    "proxy_forwarded_address_header": "X-Forwarded-For",
    "proxy_forwarded_port_header": "X-Forwarded-Port",
    "proxy_forwarded_proto_header": "X-Forwarded-Proto",
}


def _scope(address, headers: dict[str, str]) -> dict:
    encoded = {name: value.encode("latin-1") for name, value in headers.items()}
    response = httpx.get(f"http://{address[0]}:{address[1]}/scope", headers=encoded)
    return dict(json.loads(response.content))


def test_a_client_sent_forwarded_cannot_override_the_proxys_x_forwarded_for(pool, stack):
    address = pool.get(**X_HEADERS, **stack)
    # What nginx passes on: the client's own Forwarded untouched, X-Forwarded-For appended.
    scope = _scope(
        address,
        {
            "Forwarded": "for=6.6.6.6:6666;proto=https",
            "X-Forwarded-For": "203.0.113.50",
            "X-Forwarded-Port": "4242",
        },
    )
    assert scope["client"] == ["203.0.113.50", 4242]
    assert scope["scheme"] == "http"


def test_forwarded_is_read_only_when_enabled(pool, stack):
    address = pool.get(proxy_headers_forwarded=True, **stack)
    scope = _scope(
        address,
        {"Forwarded": 'for="[2001:db8::7]:4711";proto=https', "X-Forwarded-For": "6.6.6.6"},
    )
    assert scope["client"] == ["2001:db8::7", 4711]
    assert scope["scheme"] == "https"


def test_with_both_enabled_forwarded_wins_and_x_forwarded_for_is_the_fallback(pool, stack):
    address = pool.get(proxy_headers_forwarded=True, **X_HEADERS, **stack)
    both = {"Forwarded": "for=203.0.113.8", "X-Forwarded-For": "203.0.113.9"}
    assert _scope(address, both)["client"][0] == "203.0.113.8"
    assert _scope(address, {"X-Forwarded-For": "203.0.113.9"})["client"][0] == "203.0.113.9"


@pytest.mark.parametrize(
    "value",
    ["unknown", "<script>alert(1)</script>", "203.0.113.5, not-an-ip", "fe80::1%<b>", "999.1.1.1"],
)
def test_a_forwarded_client_that_is_not_an_ip_address_leaves_the_peer(pool, stack, value):
    address = pool.get(**X_HEADERS, **stack)
    scope = _scope(address, {"X-Forwarded-For": value, "X-Forwarded-Port": "4242"})
    assert scope["client"][0] == "127.0.0.1"
    assert scope["client"][1] != 4242


@pytest.mark.parametrize("value", ["999999999999999999999", "65536", "-1", "\u00b2", "80x"])
def test_a_forwarded_port_outside_0_to_65535_is_ignored(pool, stack, value):
    address = pool.get(**X_HEADERS, **stack)
    scope = _scope(address, {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Port": value})
    # Without a believable port the client's is unknown: 0, as when none was forwarded.
    assert scope["client"] == ["203.0.113.5", 0]


# WebSocket close codes -------------------------------------------------------------------


async def test_a_client_close_code_is_echoed(server):
    async with websockets.connect(f"ws://{server[0]}:{server[1]}/ws/echo") as ws:
        await ws.send("ping")
        assert await ws.recv() == "ping"
        await ws.close(code=4000, reason="done")
    close = ws.protocol.close_rcvd
    assert close is not None
    assert close.code == 4000


def test_the_command_line_turns_forwarded_on(cli_server, free_port):
    port = free_port()
    args = ["-p", str(port), "--proxy-headers-forwarded", "daphne_test_apps:app"]
    with cli_server(args, port=port):
        scope = _scope(("127.0.0.1", port), {"Forwarded": "for=203.0.113.77:5555;proto=https"})
    assert scope["client"] == ["203.0.113.77", 5555]
    assert scope["scheme"] == "https"


def test_a_close_frame_without_a_code_reaches_the_app_as_1005(server, record, wait_for):
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(
            b"GET /ws/echo?" + record.query.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n" + WS_HEADERS + b"\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101 ")
        sock.sendall(b"\x88\x80\x00\x00\x00\x00")  # a masked close frame with no payload
        assert sock.recv(2)[:1] == b"\x88"
    wait_for(lambda: any(e.get("event") == "disconnect" for e in record.events()))
    assert {"event": "disconnect", "code": 1005, "reason": ""} in record.events()


@pytest.mark.parametrize("path", [b"/", b"/ws/echo"], ids=["http", "ws"])
def test_a_header_value_with_nel_is_400_so_no_header_is_smuggled_through_splitlines(
    server, raw, path
):
    upgrade = b"Upgrade: websocket\r\nConnection: Upgrade\r\n" + WS_HEADERS if path != b"/" else b""
    head = b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n" + upgrade
    reply = raw(server, head + b"X-Padding: innocent\x85X-Secret-Auth: admin\r\n\r\n")
    assert status_of(reply) == 400
    assert b"X-Secret-Auth" not in reply
