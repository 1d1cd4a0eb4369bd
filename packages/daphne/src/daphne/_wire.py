"""Bytes for HTTP/1.1 response heads, chunk framing and the server's own error responses."""

from __future__ import annotations

import http
import time
from email.utils import formatdate
from typing import NamedTuple

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


class Framing(NamedTuple):
    """How a response's body is delimited on an HTTP/1.x connection."""

    allowed: bool  # the status and method allow a body at all
    chunked: bool  # Transfer-Encoding: chunked
    length: int | None  # a Content-Length the server adds (the whole body is known)
    close_delimited: bool  # HTTP/1.0 with no length: only closing the connection ends it

    def body(self, data: bytes, more: bool) -> bytes:
        """*data* as it goes on the wire: nothing where no body is allowed, else chunked if so."""
        if not self.allowed:
            return b""
        return frame_chunk(data, not more) if self.chunked else data


def response_framing(
    status: int, headers: RawHeaders, head_only: bool, http_version: str, first: int, more: bool
) -> Framing:
    """The framing of a response whose first body message has *first* bytes (*more* to come).

    The application's own Content-Length wins; a response known whole gets one; otherwise
    HTTP/1.1 is chunked and HTTP/1.0 is delimited by the close.
    """
    has_length = False
    for name, _ in headers:
        if len(name) == 14 and name.lower() == b"content-length":
            has_length = True
            break
    allowed = body_allowed(status, head_only)
    length = None
    if allowed and not has_length and not more:
        length = first
        has_length = True
    chunked = allowed and not has_length and http_version == "1.1"
    return Framing(allowed, chunked, length, allowed and not has_length and not chunked)


#: The framing before any response: a body is allowed, as it is.
UNFRAMED = Framing(True, False, None, False)


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
    "UNFRAMED",
    "DateHeader",
    "Framing",
    "body_allowed",
    "build_head",
    "error_response",
    "frame_chunk",
    "response_framing",
    "status_line",
]
