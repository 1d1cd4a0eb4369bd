"""Rules for an HTTP/1.x request head, decided here so both parsers behave the same.

Pure functions over the parsed header list: whether the connection stays open, whether the
request asks for a WebSocket, whether its ``Host``, ``Content-Length`` and ``Expect`` are
acceptable, and the size limits that no configuration changes. A request the server refuses
raises :class:`Reject` with the status to answer.
"""

from __future__ import annotations

import re

from ._types import RawHeaders

#: RFC 9112 3: a method longer than any the server implements is answered 501. The longest
#: registered methods (IANA's list) have 17 characters; 32 leaves room for extensions.
MAX_METHOD_LENGTH = 32

#: A chunked request's trailer section, all fields together (and, with httptools, any other
#: chunk framing that arrives without body data), answered with 431 above this.
MAX_TRAILER_SIZE = 8192


# RFC 3986 3.2.2: an IP literal in brackets or a reg-name (IPv4 addresses are reg-names too),
# then an optional port.
_HOST = re.compile(
    rb"(?:\[[0-9A-Za-z:.!$&'()*+,;=_~-]+\]|[0-9A-Za-z.!$&'()*+,;=_~%-]*)(?::[0-9]*)?"
)


# Host values already found valid: a server sees a handful, on every request, and a set lookup
# costs a tenth of the match. Bounded (256 values of at most 255 bytes); once full, values
# not in it are matched every time.
_VALID_HOSTS: set[bytes] = set()


class Reject(Exception):
    """The server answers this request itself with ``status`` (and then closes)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class InputBudget:
    """Bounds on what a client sends that is neither a finished head nor body data.

    ``head`` counts the bytes of a head still arriving: above the request-line and header
    limits together it is 414 while no line has ended, 431 after. Inside a chunked body,
    httptools keeps an unfinished trailer field in memory until its line ends and reports
    neither chunk sizes nor partial fields, so the bytes of every feed that produced nothing
    (no body data, no complete field, no new head, no message end) are counted in a row, and
    complete trailer fields exactly, each against ``MAX_TRAILER_SIZE`` (431). The Python parser
    also counts its trailer section exactly itself, against the same limit.
    """

    __slots__ = ("head", "idle", "line_seen", "progress", "trailer")

    def __init__(self) -> None:
        self.head = 0
        self.line_seen = False
        self.progress = False  # set by the parser callbacks during one feed
        self.idle = 0
        self.trailer = 0

    def head_complete(self) -> None:
        self.head = 0
        self.line_seen = False
        self.trailer = 0
        self.progress = True

    def check_head(self, max_request_line: int, max_header_size: int) -> None:
        if self.head > max_request_line + max_header_size:
            if not self.line_seen:
                raise Reject(414, f"request line longer than {max_request_line} bytes")
            raise Reject(431, f"request head larger than {max_header_size} bytes")

    def body_fed(self, size: int) -> None:
        """After a feed inside a body: count it if it produced nothing."""
        if self.progress:
            self.idle = 0
            return
        self.idle += size
        if self.idle > MAX_TRAILER_SIZE:
            raise Reject(431, f"trailer section longer than {MAX_TRAILER_SIZE} bytes")

    def trailer_field(self, size: int) -> None:
        self.progress = True
        self.trailer += size
        if self.trailer > MAX_TRAILER_SIZE:
            raise Reject(431, f"trailer section longer than {MAX_TRAILER_SIZE} bytes")


def split_tokens(value: bytes) -> list[bytes]:
    """The elements of a comma-separated list field (RFC 9110 5.6.1), lower-cased.

    Tokens compare case-insensitively; optional whitespace and empty elements are dropped.
    This is the one reading of ``Connection``, ``Upgrade`` and ``Transfer-Encoding``.
    """
    return [token for item in value.split(b",") if (token := item.strip(b" \t").lower())]


def header_tokens(headers: RawHeaders, name: bytes) -> list[bytes]:
    """Every token of every ``name`` field (lower-case ``name``; field names in any case)."""
    tokens: list[bytes] = []
    size = len(name)
    for key, value in headers:
        if len(key) == size and key.lower() == name:
            tokens += split_tokens(value)
    return tokens


def keep_alive(version: str, headers: RawHeaders) -> bool:
    """RFC 9112 9.3: HTTP/1.1 stays open unless ``close``; HTTP/1.0 only with ``keep-alive``."""
    tokens: list[bytes] = []
    for name, value in headers:
        if name == b"connection":  # names are lower-case here (the scope's headers)
            tokens += split_tokens(value)
    if version == "1.0":
        return b"keep-alive" in tokens
    return b"close" not in tokens


def is_websocket_upgrade(headers: RawHeaders) -> bool:
    """Whether ``Upgrade`` lists the ``websocket`` token (RFC 6455 4.2.1, any case).

    Only asked once the parser saw ``upgrade`` in ``Connection``. Whatever else the request
    says is checked by the handshake rules (``_handshake``), which answer 400 for a request
    that asks for a WebSocket the wrong way, including with a method other than GET.
    """
    return b"websocket" in header_tokens(headers, b"upgrade")


def host_problem(version: str, headers: RawHeaders, require_host: bool = True) -> str | None:
    """RFC 9112 3.2: an HTTP/1.1 request has exactly one ``Host``, any request at most one,
    and its value is ``uri-host [":" port]`` (RFC 3986; it may be empty).

    ``require_host=False`` lets an HTTP/1.1 request without ``Host`` through (Daphne 4
    served those); two hosts or an invalid value are refused either way.

    Returns what is wrong (the server answers 400), or None. Two hosts, or one with a path,
    userinfo or spaces in it, could be read differently by a proxy in front and by the
    application behind it.
    """
    count = 0
    host = b""
    for name, value in headers:
        if len(name) == 4 and name.lower() == b"host":
            count += 1
            host = value
    if count > 1 or (count == 0 and require_host and version != "1.0"):
        return f"expected one Host header in an HTTP/{version} request, got {count}"
    if host and host not in _VALID_HOSTS:
        if _HOST.fullmatch(host) is None:
            return f"expected 'host[:port]' as the Host header, got {host[:60]!r}"
        if len(_VALID_HOSTS) < 256 and len(host) <= 255:
            _VALID_HOSTS.add(host)
    return None


def check_version_and_host(version: str, headers: RawHeaders, require_host: bool) -> None:
    """HTTP/1.0 or 1.1 only (400 for 0.9, 505 above), and the ``Host`` rule (400)."""
    if version == "0.9":
        raise Reject(400, "expected 'METHOD target HTTP/1.1', got an HTTP/0.9 request line")
    if version not in ("1.1", "1.0"):
        raise Reject(505, f"expected HTTP/1.0 or HTTP/1.1, got HTTP/{version}")
    problem = host_problem(version, headers, require_host)
    if problem is not None:
        raise Reject(400, problem)


def upgrade_body_length(headers: RawHeaders) -> int | None:
    """The body length of an upgrade request, which the parsers leave unframed (llhttp stops at
    the head of any request that asks to upgrade): its Content-Length, 0 when none, and None
    when it is sent with Transfer-Encoding (chunked), which a server that does not switch
    would have to unframe itself."""
    if header_tokens(headers, b"transfer-encoding"):
        return None
    lengths = {value.strip() for name, value in headers if name.lower() == b"content-length"}
    if not lengths:
        return 0
    (length,) = lengths  # the parser refused conflicting lengths already
    return int(length)


def check_length_and_expect(headers: RawHeaders, max_body_size: int | None) -> bool:
    """Refuse a declared body over the limit (413) or an unknown expectation (417); return
    whether the client waits for ``100 Continue``. Header names are lower-case here."""
    expect = False
    for name, value in headers:
        if name == b"content-length" and max_body_size is not None:
            if value.strip().isdigit() and int(value) > max_body_size:
                raise Reject(413, f"Content-Length {int(value)} exceeds the limit {max_body_size}")
        elif name == b"expect":
            if value.lower() != b"100-continue":
                raise Reject(417, f"expected 'Expect: 100-continue', got {value[:40]!r}")
            expect = True
    return expect


__all__ = [
    "MAX_METHOD_LENGTH",
    "MAX_TRAILER_SIZE",
    "InputBudget",
    "Reject",
    "check_length_and_expect",
    "check_version_and_host",
    "header_tokens",
    "host_problem",
    "is_websocket_upgrade",
    "keep_alive",
    "split_tokens",
    "upgrade_body_length",
]
