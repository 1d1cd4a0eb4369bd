"""Pure translation between ASGI HTTP scopes and WSGI (PEP 3333) environ and responses."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO, Any

__all__ = [
    "DEFAULT_DUPLICATE_HEADER_LIMIT",
    "TooManyDuplicateHeaders",
    "build_environ",
    "encode_response_headers",
    "parse_status",
]

#: How many times one request header may repeat before the request is refused (3.13's).
DEFAULT_DUPLICATE_HEADER_LIMIT = 100


class TooManyDuplicateHeaders(ValueError):
    """A request header repeats more often than ``duplicate_header_limit`` allows."""


# Headers whose repeated values cannot be joined with a comma (RFC 6265 uses "; ").
_JOINERS = {"HTTP_COOKIE": "; "}


def _wsgi_str(text: str) -> str:
    # PEP 3333 "native strings": the UTF-8 bytes of the path, one character per byte.
    return text.encode("utf-8").decode("latin-1")


def build_environ(
    scope: Any,
    body: IO[bytes] | None,
    duplicate_header_limit: int | None = DEFAULT_DUPLICATE_HEADER_LIMIT,
) -> dict[str, Any]:
    """The WSGI environ for an ASGI ``http`` scope whose body is readable from ``body``.

    Raises :class:`TooManyDuplicateHeaders` when one header name occurs more than
    ``duplicate_header_limit`` times (``None`` or 0: no limit): joining thousands of
    repeats would cost the worker quadratic time for a request nobody sends honestly.
    """
    root_path: str = scope.get("root_path", "") or ""
    path: str = scope["path"]
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": _wsgi_str(root_path),
        "PATH_INFO": _wsgi_str(path),
        "QUERY_STRING": bytes(scope.get("query_string", b"")).decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "SERVER_NAME": server[0],
        # A UNIX socket has no port: ASGI says (path, None), WSGI needs a number.
        "SERVER_PORT": str(server[1] if server[1] is not None else 0),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    _add_headers(environ, scope.get("headers", ()), duplicate_header_limit)
    return environ


def _add_headers(
    environ: dict[str, Any], headers: Iterable[tuple[bytes, bytes]], limit: int | None
) -> None:
    seen: dict[str, int] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name == "content-length":
            key = "CONTENT_LENGTH"
        elif name == "content-type":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        count = seen[key] = seen.get(key, 0) + 1
        if limit and count > limit:
            raise TooManyDuplicateHeaders(
                f"Too many duplicate headers: {key} exceeds the limit of {limit}"
            )
        value = raw_value.decode("latin-1")
        if count > 1:
            value = environ[key] + _JOINERS.get(key, ",") + value
        environ[key] = value


def parse_status(status: str) -> int:
    """The status code of a WSGI status line such as ``"404 Not Found"``."""
    code, _, _reason = status.partition(" ")
    if len(code) != 3 or not code.isdigit():
        raise ValueError(f"WSGI status must look like '200 OK', got {status!r}")
    return int(code)


def encode_response_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """WSGI response headers as ASGI header pairs (lower-cased names, latin-1 bytes)."""
    encoded: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(
                f"WSGI response headers must be (str, str) pairs, got ({name!r}, {value!r})"
            )
        encoded.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return encoded
