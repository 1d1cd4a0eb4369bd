"""Malformed and hostile input: the right status, no traceback, and the server keeps serving."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

CASES = [
    ("garbage request line", b"HELLO\r\n\r\n", 400),
    ("binary garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    ("missing version", b"GET /\r\nHost: x\r\n\r\n", 400),
    ("unknown version", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("space in header name", b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n", 400),
    ("header without colon", b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400),
    ("bad content-length", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", 400),
    (
        "negative content-length",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        400,
    ),
    (
        "conflicting content-lengths",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
    ),
    (
        "length and chunked together",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    (
        "bad chunk size",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk data without CRLF",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nhelloXX0\r\n\r\n",
        400,
    ),
    ("unknown expectation", b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417),
    ("oversized request line", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (
        "oversized headers",
        b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 100_000 + b"\r\n\r\n",
        431,
    ),
    (
        "too many headers",
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: v\r\n" % i for i in range(200))
        + b"\r\n",
        431,
    ),
]


@pytest.mark.parametrize(("name", "request_bytes", "status"), CASES, ids=[c[0] for c in CASES])
def test_malformed_request_gets_error_and_server_survives(server, raw, name, request_bytes, status):
    reply = raw(server, request_bytes)
    assert reply.startswith(b"HTTP/1.1 %d " % status), reply[:200]
    assert b"Traceback" not in reply
    assert httpx.get(f"http://{server[0]}:{server[1]}/").status_code == 200


def test_body_larger_than_limit_is_413(pool, stack, raw):
    server = pool.get(max_body_size=1000, **stack)
    declared = raw(server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
    assert declared.startswith(b"HTTP/1.1 413 ")
    chunked = raw(
        server,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % 4000
        + b"a" * 4000
        + b"\r\n0\r\n\r\n",
    )
    assert chunked.startswith(b"HTTP/1.1 413 ")
    small = httpx.post(f"http://{server[0]}:{server[1]}/echo", content=b"x" * 999)
    assert small.content == b"x" * 999


def test_slowloris_head_times_out_with_408(pool, stack):
    server = pool.get(request_header_timeout=1, **stack)
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        reply = b""
        for byte in b"Host: slow\r\nX-A: 1\r\n" * 50:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.01)
            sock.setblocking(False)
            try:
                reply += sock.recv(4096)
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
            if reply:
                break
        sock.settimeout(10)
        try:
            while chunk := sock.recv(4096):
                reply += chunk
        except OSError:
            pass
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert httpx.get(f"http://{server[0]}:{server[1]}/").status_code == 200


def test_idle_keep_alive_connection_is_closed(pool, stack):
    server = pool.get(keep_alive_timeout=0.5, **stack)
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while not data.endswith(b"Hello, world!"):
            data += sock.recv(4096)
        assert sock.recv(4096) == b""  # closed by the server, without a response


def test_absolute_form_target_is_accepted(server, raw):
    reply = raw(
        server,
        b"GET http://example.com/scope?q=1 HTTP/1.1\r\n"
        b"Host: example.com\r\nConnection: close\r\n\r\n",
    )
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"path": "/scope"' in reply and b'"query_string": "q=1"' in reply


def test_relative_target_without_slash_is_400(server, raw):
    reply = raw(server, b"GET scope HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 ")


def test_bad_pipelined_request_is_answered_after_the_good_one(server, raw):
    reply = raw(
        server,
        b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /length HTTP/1.1\r\nHost: x\r\n\r\n"
        b"THIS IS NOT HTTP\r\n\r\n",
    )
    first, _, rest = reply.partition(b"0\r\n\r\n")  # end of the chunked /stream response
    assert first.startswith(b"HTTP/1.1 200 ")
    assert b"one," in first and b"three" in first
    second, _, third = rest.partition(b"12345")
    assert second.startswith(b"HTTP/1.1 200 ")
    assert third.startswith(b"HTTP/1.1 400 ")
