"""Bytes on the wire: status lines, chunk framing and the server's own error responses."""

from __future__ import annotations

from daphne._wire import error_response, frame_chunk, status_line


def test_wire_helpers():
    assert status_line(404) == b"HTTP/1.1 404 Not Found\r\n"
    assert status_line(599).startswith(b"HTTP/1.1 599 ")
    assert frame_chunk(b"abc", last=True) == b"3\r\nabc\r\n0\r\n\r\n"
    assert frame_chunk(b"", last=False) == b""
    response = error_response(400, "bad thing")
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert response.endswith(b"Bad Request\nbad thing\n")
