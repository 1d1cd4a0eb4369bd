"""A pure-Python incremental HTTP/1.1 request parser with the httptools calling convention.

The protocol drives either this parser or ``httptools.HttpRequestParser`` through the same
callbacks (on_message_begin, on_url, on_header, on_headers_complete, on_body,
on_message_complete), so both paths share every test. Invariants: bytes are consumed exactly
once; framing is decided from the headers before any body byte is read; anything ambiguous
(Content-Length with Transfer-Encoding, two different lengths, obs-fold) is rejected, because
a proxy in front might frame it differently (request smuggling).
"""

from __future__ import annotations

import re
from typing import Any

from ._request import MAX_METHOD_LENGTH, MAX_TRAILER_SIZE, split_tokens

_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# RFC 9112 3.2: a request target is visible ASCII (non-ASCII is percent-encoded), as httptools
# requires too.
_TARGET = re.compile(rb"^[\x21-\x7e]+$")
_CHUNK_SIZE = re.compile(rb"^([0-9A-Fa-f]{1,16})[ \t]*(;.*)?$")
_VERSION = re.compile(rb"^HTTP/(\d)\.(\d)$")
_HEAD, _BODY, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _DONE = range(7)


class ParseError(Exception):
    """The bytes are not a valid HTTP/1.x request; ``status`` is the response to send."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class UpgradeRequested(Exception):
    """Raised after the head of an upgrade request; ``args[0]`` is the offset of the rest."""


class PyRequestParser:
    """Incremental parser: call ``feed_data`` with whatever arrived."""

    def __init__(self, handler: Any) -> None:  # a _parser.ParserCallbacks
        self._handler = handler
        self._buffer = bytearray()
        self._state = _HEAD
        self._reset_message()

    def _reset_message(self) -> None:
        self._method = b""
        self._version = "1.1"
        self._keep_alive = True
        self._upgrade = False
        self._remaining = 0
        self._trailer_size = 0

    def get_method(self) -> bytes:
        return self._method

    def get_http_version(self) -> str:
        return self._version

    def should_keep_alive(self) -> bool:
        return self._keep_alive

    def should_upgrade(self) -> bool:
        return self._upgrade

    def feed_data(self, data: bytes) -> None:
        self._buffer += data
        while self._step():
            pass
        if self._state == _DONE and self._upgrade:
            # The head ended inside ``data`` (it was incomplete before), so every byte still
            # buffered came from ``data`` and belongs to the upgraded protocol.
            raise UpgradeRequested(len(data) - len(self._buffer))

    def _step(self) -> bool:
        state = self._state
        if state == _HEAD:
            return self._parse_head()
        if state == _BODY:
            return self._read_body()
        if state == _CHUNK_SIZE_LINE:
            return self._read_chunk_size()
        if state == _CHUNK_DATA:
            return self._read_chunk_data()
        if state == _CHUNK_END:
            return self._read_chunk_end()
        if state == _TRAILERS:
            return self._read_trailers()
        return False

    def _parse_head(self) -> bool:
        buffer = self._buffer
        if buffer.startswith(b"\r\n"):
            # RFC 9112 2.2: ignore at least one empty line before the request line.
            del buffer[:2]
            return True
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if buffer and b"\n\n" in buffer:
                raise ParseError("expected CRLF line endings, got bare LF")
            return False
        head = bytes(buffer[:end])
        del buffer[: end + 4]
        lines = head.split(b"\r\n")
        self._handler.on_message_begin()
        self._request_line(lines[0])
        headers = [self._header_line(line) for line in lines[1:]]
        for name, value in headers:
            self._handler.on_header(name, value)
        self._decide_framing(headers)
        self._handler.on_headers_complete()
        if self._upgrade:
            self._finish_message()
            return False
        if self._state == _HEAD:
            self._finish_message()
        return True

    def _request_line(self, line: bytes) -> None:
        parts = line.split(b" ")
        if len(parts) != 3:
            raise ParseError(f"expected 'METHOD target HTTP/1.1' request line, got {line[:80]!r}")
        method, target, version = parts
        if len(method) > MAX_METHOD_LENGTH:
            # RFC 9112 3: longer than any method a server implements.
            raise ParseError(f"method longer than {MAX_METHOD_LENGTH} bytes", 501)
        if not _TOKEN.match(method):
            raise ParseError(f"expected a method token, got {method[:20]!r}")
        if not _TARGET.match(target):
            raise ParseError(f"expected a request target without controls, got {target[:80]!r}")
        match = _VERSION.match(version)
        if match is None:
            raise ParseError(f"expected HTTP/1.0 or HTTP/1.1, got {version[:20]!r}")
        self._method = method
        self._version = f"{match[1].decode()}.{match[2].decode()}"
        self._handler.on_url(target)

    @staticmethod
    def _header_line(line: bytes) -> tuple[bytes, bytes]:
        if line[:1] in (b" ", b"\t"):
            raise ParseError("obsolete line folding in headers is not accepted")
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.match(name):
            raise ParseError(f"expected 'Name: value' header line, got {line[:80]!r}")
        value = value.strip(b" \t")
        if any((c < 0x20 and c != 0x09) or c == 0x7F for c in value):
            raise ParseError(f"control character in the value of header {name!r}")
        return name, value

    def _decide_framing(self, headers: list[tuple[bytes, bytes]]) -> None:
        lengths: set[bytes] = set()
        codings: list[bytes] = []
        connection: list[bytes] = []
        has_upgrade = False
        for name, value in headers:
            lname = name.lower()
            if lname == b"content-length":
                lengths.update(v.strip() for v in value.split(b","))
            elif lname == b"transfer-encoding":
                codings += split_tokens(value)
            elif lname == b"connection":
                connection += split_tokens(value)
            elif lname == b"upgrade":
                has_upgrade = True
        if self._version == "1.0":
            self._keep_alive = b"keep-alive" in connection
        else:
            self._keep_alive = b"close" not in connection
        self._upgrade = has_upgrade and b"upgrade" in connection
        if codings:
            if lengths:
                raise ParseError("expected Content-Length or Transfer-Encoding, got both")
            if codings[-1] != b"chunked" or codings.count(b"chunked") != 1:
                raise ParseError(f"expected 'chunked' as the final transfer coding, got {codings}")
            self._state = _CHUNK_SIZE_LINE
            return
        if len(lengths) > 1:
            raise ParseError(f"expected one Content-Length, got {sorted(lengths)}")
        if lengths:
            (length,) = lengths
            if not length.isdigit() or len(length) > 18:
                raise ParseError(f"expected a decimal Content-Length, got {length[:20]!r}")
            self._remaining = int(length)
            self._state = _BODY if self._remaining else _HEAD

    def _finish_message(self) -> None:
        self._state = _DONE if self._upgrade else _HEAD
        self._handler.on_message_complete()

    def _read_body(self) -> bool:
        if not self._buffer:
            return False
        chunk = bytes(self._buffer[: self._remaining])
        del self._buffer[: len(chunk)]
        self._remaining -= len(chunk)
        self._handler.on_body(chunk)
        if self._remaining == 0:
            self._finish_message()
        return True

    def _read_chunk_size(self) -> bool:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > 1024:
                raise ParseError("chunk size line longer than 1024 bytes")
            return False
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        match = _CHUNK_SIZE.match(line)
        if match is None:
            raise ParseError(f"expected a hexadecimal chunk size, got {line[:40]!r}")
        self._remaining = int(match[1], 16)
        self._state = _CHUNK_DATA if self._remaining else _TRAILERS
        self._trailer_size = 0
        return True

    def _read_chunk_data(self) -> bool:
        if not self._buffer:
            return False
        chunk = bytes(self._buffer[: self._remaining])
        del self._buffer[: len(chunk)]
        self._remaining -= len(chunk)
        self._handler.on_body(chunk)
        if self._remaining == 0:
            self._state = _CHUNK_END
        return True

    def _read_chunk_end(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if self._buffer[:2] != b"\r\n":
            raise ParseError(f"expected CRLF after chunk data, got {bytes(self._buffer[:2])!r}")
        del self._buffer[:2]
        self._state = _CHUNK_SIZE_LINE
        return True

    def _read_trailers(self) -> bool:
        # Trailer fields are checked and dropped, never buffered, but their total is bounded
        # all the same, as it is with httptools (see Http1State.dataReceived).
        end = self._buffer.find(b"\r\n")
        size = self._trailer_size + (len(self._buffer) if end < 0 else end + 2)
        if size > MAX_TRAILER_SIZE:
            raise ParseError(f"trailer section longer than {MAX_TRAILER_SIZE} bytes", 431)
        if end < 0:
            return False
        self._trailer_size = size
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        if line:
            self._header_line(line)
            return True
        self._finish_message()
        return True


__all__ = ["ParseError", "PyRequestParser", "UpgradeRequested"]
