"""HTTP/1.1 connection management and response framing (RFC 9110, RFC 9112 §6-§9)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ._checks import assert_no_leak, describe, get
from ._kit import Kit
from ._wire import request

PIPELINED = 10


def test_keep_alive_serves_sequential_requests(server_kit: Kit) -> None:
    """RFC 9112 §9.3: HTTP/1.1 connections persist; three requests in turn get three
    responses on one connection."""
    with server_kit.connect() as conn:
        for index in range(3):
            conn.send(request("GET", f"/n{index}"))
            response = conn.read_response()
            assert response is not None and response.header("x-kit-path") == f"/n{index}", (
                f"expected a response for /n{index} on the kept-alive connection, "
                f"got {describe(response)}"
            )


def test_pipelined_responses_arrive_in_order(server_kit: Kit) -> None:
    """RFC 9112 §9.3.2: a server answers pipelined requests in the order received."""
    raw = b"".join(request("GET", f"/p{index}") for index in range(PIPELINED))
    with server_kit.connect() as conn:
        conn.send(raw)
        paths = []
        for _ in range(PIPELINED):
            response = conn.read_response()
            paths.append(response.header("x-kit-path") if response else None)
    assert paths == [f"/p{index}" for index in range(PIPELINED)]


def test_pipelined_requests_then_half_close_get_every_response(server_kit: Kit) -> None:
    """RFC 9112 §9.3.2 and §9.6: a client that pipelines N requests and then shuts down its
    write side still receives all N responses before the server closes. Over TLS the client
    sends close_notify and then the FIN (RFC 8446 §6.1: close_notify ends one direction; a
    bare FIN would be a truncation)."""
    raw = b"".join(request("GET", f"/h{index}") for index in range(PIPELINED))
    with server_kit.connect(half_close=True) as conn:
        conn.send(raw)
        conn.shutdown_write()
        paths = []
        for _ in range(PIPELINED):
            response = conn.read_response()
            if response is None:
                break
            paths.append(response.header("x-kit-path"))
    assert paths == [f"/h{index}" for index in range(PIPELINED)], (
        f"expected {PIPELINED} responses after the half-close, got {paths}"
    )


def test_connection_close_is_honoured(server_kit: Kit) -> None:
    """RFC 9112 §9.6: a server that receives "Connection: close" MUST close the connection
    after sending its response."""
    with server_kit.connect() as conn:
        conn.send(request("GET", "/", ("Connection", "close")))
        response = conn.read_response()
        assert response is not None and response.status == 200, describe(response)
        assert conn.closed_by_server(5.0), "expected the server to close after the response"


def test_http10_closes_after_the_response(server_kit: Kit) -> None:
    """RFC 9112 §9.3: an HTTP/1.0 request without keep-alive ends the connection after the
    response; the response is not chunked (RFC 9112 §6.1)."""
    with server_kit.connect() as conn:
        conn.send(request("GET", "/stream?chunks=3&size=4", version="HTTP/1.0"))
        response = conn.read_response()
        assert response is not None and response.status == 200, describe(response)
        assert not response.chunked, "expected no chunked framing in a response to HTTP/1.0"
        assert response.body == b"aaaabbbbcccc"
        assert conn.closed_by_server(5.0), "expected the server to close after the response"


def test_http10_keep_alive(server_kit: Kit, server_observe: Callable[[str], None]) -> None:
    """RFC 9112 Appendix C.2.2: keeping an HTTP/1.0 connection alive on request is optional;
    the kit records whether a second request on the same connection is served."""
    with server_kit.connect() as conn:
        conn.send(request("GET", "/", ("Connection", "keep-alive"), version="HTTP/1.0"))
        first = conn.read_response()
        assert first is not None and first.status == 200, describe(first)
        conn.send(request("GET", "/again", version="HTTP/1.0"))
        second = conn.read_response(timeout=5.0)
    server_observe("kept alive" if second is not None else "closed")


def test_expect_100_continue_gets_an_interim_response(server_kit: Kit) -> None:
    """RFC 9110 §10.1.1: for "Expect: 100-continue" the server sends 100 (Continue) or a
    final status before the client sends the body."""
    head = request("POST", "/echo", ("Expect", "100-continue"), ("Content-Length", "5"))
    with server_kit.connect() as conn:
        conn.send(head)
        interim = conn.read_until(b"\r\n\r\n", 10.0)
        assert interim is not None, "expected 100 Continue (or a final status) before the body"
        assert interim.startswith(b"HTTP/1.1 100"), f"expected 100 Continue, got {interim!r}"
        conn.send(b"hello")
        response = conn.read_response("POST")
    assert response is not None and (response.status, response.body) == (200, b"hello")


def test_expect_100_continue_is_ignored_for_http10(server_kit: Kit) -> None:
    """RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation in HTTP/1.0."""
    raw = request("POST", "/echo", ("Expect", "100-continue"), body=b"hi", version="HTTP/1.0")
    response = get(server_kit, raw, "POST")
    assert response.interim == [] and response.status == 200, (
        f"expected no interim response to HTTP/1.0, got {response.interim}"
    )


def test_head_response_has_no_body(server_kit: Kit) -> None:
    """RFC 9110 §9.3.2: the response to HEAD carries no content, even though the app sent a
    body; the next response on the connection is intact."""
    with server_kit.connect() as conn:
        conn.send(request("HEAD", "/") + request("GET", "/after"))
        head = conn.read_response("HEAD")
        after = conn.read_response()
        assert_no_leak(conn)
    assert head is not None and head.status == 200, describe(head)
    assert after is not None and after.header("x-kit-path") == "/after", (
        f"expected the response after HEAD to be intact, got {describe(after)}"
    )


@pytest.mark.parametrize("code", [204, 304])
def test_bodyless_status_has_no_body_or_framing(server_kit: Kit, code: int) -> None:
    """RFC 9110 §6.4.1, §8.6 and RFC 9112 §6.3: 204 and 304 responses have no content; a 204
    carries neither Content-Length nor Transfer-Encoding; the connection stays usable."""
    with server_kit.connect() as conn:
        conn.send(request("GET", f"/status?code={code}") + request("GET", "/after"))
        first = conn.read_response()
        after = conn.read_response()
    assert first is not None and first.status == code, describe(first)
    assert first.header("transfer-encoding") is None, "expected no Transfer-Encoding"
    if code == 204:
        assert first.header("content-length") is None, "expected no Content-Length in a 204"
    assert after is not None and after.header("x-kit-path") == "/after", describe(after)


def test_streamed_response_is_framed(server_kit: Kit) -> None:
    """RFC 9112 §6.3 and §7.1: a body streamed with more_body is framed (chunked or
    close-delimited) so that it arrives whole."""
    response = get(server_kit, request("GET", "/stream?chunks=4&size=3"))
    assert response.complete and response.body == b"aaabbbcccddd", response


def test_response_trailers(server_kit: Kit) -> None:
    """ASGI HTTP "Response Trailers" extension and RFC 9112 §7.1.2: trailers the app sends
    after the body arrive as a chunked trailer section."""
    server_kit.require("trailers")
    response = get(server_kit, request("GET", "/trailers", ("TE", "trailers")))
    assert response.status == 200 and response.body == b"body before trailers", response
    assert ("x-kit-trailer", "done") in response.trailers, response.trailers


def test_unknown_http11_minor_version(
    server_kit: Kit, server_observe: Callable[[str], None]
) -> None:
    """RFC 9110 §2.5: a server may treat HTTP/1.2 as 1.1 (or refuse it); the kit records
    the status it answers."""
    with server_kit.connect() as conn:
        conn.send(b"GET / HTTP/1.2\r\nHost: kit.test\r\n\r\n")
        response = conn.read_response()
    server_observe(str(response.status) if response else "closed")


def test_responses_carry_a_date(server_kit: Kit) -> None:
    """RFC 9110 §6.6.1: an origin server with a clock MUST send Date in 2xx, 3xx and 4xx
    responses."""
    response = get(server_kit, request("GET", "/"))
    assert response.header("date"), f"expected a Date header, got {response.headers}"


def test_content_length_with_leading_zeros_is_valid(server_kit: Kit) -> None:
    """RFC 9110 §8.6: Content-Length = 1*DIGIT, so "0005" is a valid length of 5."""
    raw = b"POST /echo HTTP/1.1\r\nHost: kit.test\r\nContent-Length: 0005\r\n\r\nhello"
    response = get(server_kit, raw, "POST")
    assert (response.status, response.body) == (200, b"hello"), describe(response)


def test_asterisk_form_options(server_kit: Kit, server_observe: Callable[[str], None]) -> None:
    """RFC 9112 §3.2.4: "OPTIONS * HTTP/1.1" targets the server itself; how an ASGI server
    maps it (to the app with path "*", or answered itself) is its choice; recorded."""
    with server_kit.connect() as conn:
        conn.send(b"OPTIONS * HTTP/1.1\r\nHost: kit.test\r\n\r\n")
        response = conn.read_response()
        assert_no_leak(conn)
    server_observe(
        f"{response.status} path {response.header('x-kit-path')}" if response else "closed"
    )
