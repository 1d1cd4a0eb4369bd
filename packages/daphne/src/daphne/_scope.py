"""Pure functions that turn a parsed HTTP request head into an ASGI scope.

Nothing here touches a socket: the protocols hand in what they parsed and the peer addresses,
so the rules (path decoding, root path, header filtering) are tested on their own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from ._proxy import ProxyConfig, apply_proxy_headers
from ._types import Address, RawHeaders, Scope

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
WEBSOCKET_ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
ROOT_PATH_HEADER = b"daphne-root-path"


class RequestTargetError(ValueError):
    """The request target cannot be mapped to a path (it is not origin-, absolute- or *-form)."""


def split_target(target: bytes) -> tuple[bytes, bytes]:
    """Split a request target into (raw path, query string).

    Absolute-form targets (proxies send ``GET http://host/p``) keep only their path; the
    fragment is never sent by conforming clients, and is dropped if it is.
    """
    if target.startswith(b"/") or target == b"*":
        rest = target
    elif b"://" in target[:16]:
        after_scheme = target.split(b"://", 1)[1]
        slash = after_scheme.find(b"/")
        rest = b"/" if slash < 0 else after_scheme[slash:]
        if slash < 0 and b"?" in after_scheme:
            rest = b"/?" + after_scheme.split(b"?", 1)[1]
    else:
        raise RequestTargetError(
            f"expected a request target starting with '/' or an absolute URL, got {target[:60]!r}"
        )
    if b"#" in rest:
        rest = rest.split(b"#", 1)[0]
    path, _, query = rest.partition(b"?")
    return path, query


def decode_path(raw_path: bytes) -> str:
    """Percent-decode a raw path and decode the bytes as UTF-8.

    Invalid UTF-8 cannot be represented in ``path``; it is replaced, and applications that
    need the exact bytes read ``raw_path``.
    """
    if b"%" in raw_path:
        raw_path = unquote_to_bytes(raw_path)
    return raw_path.decode("utf-8", "replace")


def filter_headers(headers: RawHeaders) -> list[tuple[bytes, bytes]]:
    """Lower-case header names and drop names containing underscores.

    Django (and CGI) map ``-`` to ``_`` when building ``META``, so ``X_Forwarded_For`` would
    shadow ``X-Forwarded-For``; a proxy that validates one cannot see the other. Dropping
    underscore names removes that ambiguity.
    """
    return _filter_headers(headers)[0]


def _filter_headers(headers: RawHeaders) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
    """``filter_headers``, and the first ``daphne-root-path`` value found in the same pass."""
    result = []
    root: bytes | None = None
    for name, value in headers:
        lowered = name.lower()
        if b"_" in lowered:
            continue
        result.append((lowered, value))
        if root is None and lowered == ROOT_PATH_HEADER:
            root = value
    return result, root


def header_value(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """Return the first value of a lower-case header name, or None."""
    for key, value in headers:
        if key == name:
            return value
    return None


def build_http_scope(
    *,
    method: str,
    target: bytes,
    http_version: str,
    headers: RawHeaders,
    client: Address | None,
    server: Address | None,
    secure: bool = False,
    root_path: str = "",
    proxy: ProxyConfig | None = None,
    state: dict[str, Any] | None = None,
) -> Scope:
    """Build an ASGI ``http`` scope from a parsed request head."""
    raw_path, query = split_target(target)
    cleaned, header_root = _filter_headers(headers)
    scheme = "https" if secure else "http"
    if proxy is not None:
        client, scheme = apply_proxy_headers(proxy, cleaned, client, scheme)
    scope: Scope = {
        "type": "http",
        "asgi": ASGI_VERSION,
        "http_version": http_version,
        "method": method.upper(),
        "scheme": scheme,
        "path": decode_path(raw_path),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": root_path if header_root is None else decode_path(header_root),
        "headers": cleaned,
        # Fresh [host, port] lists per request, as upstream Daphne gives them (the connection's
        # own addresses are tuples that an application could not change through the scope).
        "client": [client[0], client[1]] if client else None,
        "server": [server[0], server[1]] if server else None,
    }
    if state is not None:
        # Each request gets a shallow copy: the lifespan state's values are shared, its keys are
        # not, as the lifespan spec requires.
        scope["state"] = dict(state)
    return scope


def build_websocket_scope(
    *,
    target: bytes,
    http_version: str,
    headers: RawHeaders,
    client: Address | None,
    server: Address | None,
    subprotocols: list[str],
    secure: bool = False,
    root_path: str = "",
    proxy: ProxyConfig | None = None,
    state: dict[str, Any] | None = None,
) -> Scope:
    """Build an ASGI ``websocket`` scope from an upgrade request head."""
    scope = build_http_scope(
        method="GET",
        target=target,
        http_version=http_version,
        headers=headers,
        client=client,
        server=server,
        secure=secure,
        root_path=root_path,
        proxy=proxy,
        state=state,
    )
    del scope["method"]
    scope["type"] = "websocket"
    scope["asgi"] = WEBSOCKET_ASGI_VERSION
    scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
    scope["subprotocols"] = subprotocols
    # Daphne 4's WebSocket scope carries neither key, and applications' tests pin its exact
    # key set. The spec reads a missing http_version as "1.1", so it is only given when it is
    # not; websocket.http.response.* denial messages are honoured without being advertised.
    if http_version == "1.1":
        del scope["http_version"]
    return scope


__all__ = [
    "RequestTargetError",
    "build_http_scope",
    "build_websocket_scope",
    "decode_path",
    "filter_headers",
    "header_value",
    "split_target",
]
