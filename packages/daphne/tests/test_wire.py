"""Bytes on the wire: status lines, chunk framing and the server's own error responses."""

from __future__ import annotations

from daphne._wire import build_head, error_response, frame_chunk, status_line


def test_wire_helpers():
    assert status_line(404) == b"HTTP/1.1 404 Not Found\r\n"
    assert status_line(599).startswith(b"HTTP/1.1 599 ")
    assert frame_chunk(b"abc", last=True) == b"3\r\nabc\r\n0\r\n\r\n"
    assert frame_chunk(b"", last=False) == b""
    response = error_response(400, "bad thing")
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert response.endswith(b"Bad Request\nbad thing\n")


def test_build_head_adds_the_length_and_the_body_after_the_app_headers():
    head = build_head(
        200,
        [(b"content-type", b"text/plain")],
        prefix=b"date: x\r\n",
        chunked=False,
        close=True,
        length=5,
        body=b"hello",
    )
    assert head == (
        b"HTTP/1.1 200 OK\r\ndate: x\r\ncontent-type: text/plain\r\n"
        b"content-length: 5\r\nconnection: close\r\n\r\nhello"
    )
    chunked = build_head(204, [], prefix=b"", chunked=True, close=False)
    assert chunked == b"HTTP/1.1 204 No Content\r\ntransfer-encoding: chunked\r\n\r\n"
