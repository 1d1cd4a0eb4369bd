"""Bytes for HTTP/1.1 response heads, chunk framing and the server's own error responses."""

from __future__ import annotations

import http
import time
from email.utils import formatdate

from ._types import RawHeaders

_REASONS = {status.value: status.phrase.encode("ascii") for status in http.HTTPStatus}
_STATUS_LINES: dict[int, bytes] = {}
NO_BODY_STATUSES = frozenset({204, 304})


def status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    if line is None:
        reason = _REASONS.get(status, b"Unknown")
        line = b"HTTP/1.1 %d %s\r\n" % (status, reason)
        _STATUS_LINES[status] = line
    return line


class DateHeader:
    """The ``Date`` header line, formatted at most once per second."""

    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def line(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = b"date: " + formatdate(now, usegmt=True).encode("ascii") + b"\r\n"
        return self._value


def body_allowed(status: int, head_request: bool) -> bool:
    return not (head_request or status < 200 or status in NO_BODY_STATUSES)


def build_head(
    status: int,
    headers: RawHeaders,
    *,
    prefix: bytes,
    chunked: bool,
    close: bool,
    length: int | None = None,
    body: bytes = b"",
) -> bytes:
    """Status line, server-provided lines (``prefix``), the app's headers, framing headers.

    ``length`` adds a ``content-length`` line; ``body`` (already framed) follows the head, so
    a whole response is joined once.
    """
    parts = [_STATUS_LINES.get(status) or status_line(status), prefix]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    if length is not None:
        parts.append(b"content-length: %d\r\n" % length)
    if chunked:
        parts.append(b"transfer-encoding: chunked\r\n")
    if close:
        parts.append(b"connection: close\r\n")
    parts.append(b"\r\n")
    if body:
        parts.append(body)
    return b"".join(parts)


def frame_chunk(data: bytes, last: bool) -> bytes:
    framed = b"%x\r\n%s\r\n" % (len(data), data) if data else b""
    return framed + b"0\r\n\r\n" if last else framed


def error_response(status: int, detail: str = "", extra: RawHeaders = ()) -> bytes:  # type: ignore[assignment]
    """A complete close-delimited plain-text response for errors the server answers itself.

    The body names the problem for humans; it never contains a traceback.
    """
    body = status_line(status)[9:].rstrip() + b"\n"
    if detail:
        body += detail.encode("utf-8", "replace") + b"\n"
    head = build_head(
        status,
        [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"%d" % len(body)),
            *extra,
        ],
        prefix=b"",
        chunked=False,
        close=True,
    )
    return head + body


__all__ = [
    "DateHeader",
    "body_allowed",
    "build_head",
    "error_response",
    "frame_chunk",
    "status_line",
]
