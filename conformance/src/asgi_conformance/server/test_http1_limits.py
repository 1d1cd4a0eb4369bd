"""Limits on request heads, bodies and time (RFC 9110 §15.5, RFC 6585 §5, RFC 9112 §3)."""

from __future__ import annotations

import time

import pytest

from ._checks import assert_no_leak, describe, refused
from ._kit import Kit
from ._wire import request


def test_huge_request_target_gets_414(server_kit: Kit) -> None:
    """RFC 9112 §3 and RFC 9110 §15.5.15: a request-target longer than the server parses is
    answered 414 (URI Too Long)."""
    refused(server_kit, request("GET", "/" + "a" * 100_000), {414})


def test_huge_method_is_refused(server_kit: Kit) -> None:
    """RFC 9112 §3: a method longer than any the server implements gets 501 (or another
    refusal such as 400, 414 or 431 as a request-line limit), never a normal response."""
    raw = b"A" * 100_000 + b" / HTTP/1.1\r\nHost: kit.test\r\n\r\n"
    refused(server_kit, raw, {400, 405, 413, 414, 431, 501}, close_ok=True)


def test_many_header_fields_get_431(server_kit: Kit) -> None:
    """RFC 6585 §5: too many header fields are answered 431 (or 400)."""
    headers = tuple((f"X-Field-{index}", "v") for index in range(10_000))
    refused(server_kit, request("GET", "/", *headers), {400, 431}, close_ok=True)


def test_huge_header_field_gets_431(server_kit: Kit) -> None:
    """RFC 6585 §5: a header section larger than the server accepts gets 431 (or 400)."""
    refused(server_kit, request("GET", "/", ("X-Big", "b" * 1_000_000)), {400, 431}, close_ok=True)


def test_huge_trailer_section_is_refused(server_kit: Kit) -> None:
    """RFC 9112 §7.1.2 and RFC 6585 §5: a trailer section as large as 1 MB is refused
    (400/413/431 or close), like an oversized header section."""
    trailer = b"X-Trailer: " + b"t" * 1_000_000 + b"\r\n"
    raw = (
        b"POST /echo HTTP/1.1\r\nHost: kit.test\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"2\r\nhi\r\n0\r\n"
        + trailer
        + b"\r\n"
    )
    refused(server_kit, raw, {400, 413, 431}, close_ok=True)


def test_huge_chunk_extension_is_refused(server_kit: Kit) -> None:
    """RFC 9112 §7.1.1: a server ought to limit chunk extensions; 1 MB of them is refused
    (400/413/431 or close), never passed over while buffered."""
    raw = (
        b"POST /echo HTTP/1.1\r\nHost: kit.test\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"2;ext="
        + b"e" * 1_000_000
        + b"\r\nhi\r\n0\r\n\r\n"
    )
    refused(server_kit, raw, {400, 413, 431}, close_ok=True)


def test_body_over_the_configured_limit_gets_413(server_kit: Kit) -> None:
    """RFC 9110 §15.5.14: a body larger than the server's configured limit is answered 413
    (needs --server-max-body)."""
    limit = server_kit.options.max_body
    if limit is None:
        pytest.skip("not supported: no --server-max-body given")
    body = b"x" * (limit + 1)
    with server_kit.connect() as conn:
        conn.send(request("POST", "/echo", body=body))
        response = conn.read_response("POST")
        assert_no_leak(conn)
    assert response is not None and response.status == 413, describe(response)


def test_incomplete_request_head_times_out(server_kit: Kit) -> None:
    """RFC 9110 §15.5.9: a server closes (optionally with 408) a connection whose request head
    does not complete in time; the wait is --server-head-timeout plus 10 s."""
    budget = server_kit.options.head_timeout + 10.0
    with server_kit.connect(timeout=budget) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: kit.test\r\nX-Slow: ")
        started = time.monotonic()
        head = conn.read_until(b"\r\n\r\n", budget)
        closed = conn.closed_by_server(max(0.0, budget - (time.monotonic() - started)))
    if head is not None:
        assert head.startswith((b"HTTP/1.1 408", b"HTTP/1.0 408")), (
            f"expected 408 or a close for an incomplete head, got {head[:60]!r}"
        )
    assert closed or head is not None, (
        f"expected the server to give up on an incomplete request head within {budget} s"
    )
