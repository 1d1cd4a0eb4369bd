"""TLS and HTTP/2 (RFC 8446 via the ssl module, RFC 9113 with a real client: httpx + h2).

The HTTP/2 checks need the kit's ``server`` extra: ``pip install asgi-conformance[server]``.
"""

from __future__ import annotations

import importlib
import json
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ._h2 import h2_request
from ._kit import Kit
from ._wire import client_tls_context


def _httpx() -> Any:
    try:  # imported by name: the kit installs without its optional clients
        return importlib.import_module("httpx")
    except ImportError:
        pytest.fail("the HTTP/2 checks need httpx[http2]: pip install 'asgi-conformance[server]'")


def _base(kit: Kit) -> str:
    kit.require("tls")
    kit.require("http2")
    return f"https://127.0.0.1:{kit.server().target.port}"


def test_tls_alpn_offers_http11(server_kit: Kit) -> None:
    """RFC 7301 §3.2: a client offering only http/1.1 gets http/1.1 (or no ALPN at all),
    never a protocol it did not offer."""
    server_kit.require("tls")
    target = server_kit.server().target
    with socket.create_connection((target.host, target.port), timeout=10) as raw:
        tls = client_tls_context(["http/1.1"]).wrap_socket(raw, server_hostname=target.host)
        with tls:
            assert tls.selected_alpn_protocol() in (None, "http/1.1")


def test_http2_is_negotiated_with_alpn(server_kit: Kit) -> None:
    """RFC 9113 §3.2: a client offering h2 over TLS gets HTTP/2; the scope says
    http_version "2"."""
    base = _base(server_kit)
    with _httpx().Client(http2=True, verify=False, timeout=10) as client:
        response = client.get(f"{base}/scope")
    assert response.http_version == "HTTP/2", response.http_version
    scope = json.loads(response.content)
    assert (scope["http_version"], scope["scheme"]) == ("2", "https"), scope


def test_http2_request_body_reaches_the_app(server_kit: Kit) -> None:
    """RFC 9113 §8.1 and ASGI "Request - receive event": a body sent in DATA frames reaches
    the app whole."""
    base = _base(server_kit)
    with _httpx().Client(http2=True, verify=False, timeout=10) as client:
        response = client.post(f"{base}/echo", content=b"h2 body " * 5000)
    assert (response.status_code, response.content) == (200, b"h2 body " * 5000)


def test_http2_concurrent_streams(server_kit: Kit) -> None:
    """RFC 9113 §5: concurrent streams on one connection are answered independently."""
    base = _base(server_kit)
    paths = [f"/s{index}" for index in range(20)]
    with (
        _httpx().Client(http2=True, verify=False, timeout=20) as client,
        ThreadPoolExecutor(8) as pool,
    ):
        responses = list(pool.map(lambda path: client.get(f"{base}{path}"), paths))
    assert [r.headers.get("x-kit-path") for r in responses] == paths


def _base_request(path: str = "/echo", method: str = "POST") -> list[tuple[str, str]]:
    return [(":method", method), (":scheme", "https"), (":authority", "kit.test"), (":path", path)]


def test_http2_well_formed_raw_request_is_served(server_kit: Kit) -> None:
    """RFC 9113 §8.3.1: a request with exactly the pseudo-header fields and lowercase
    fields is served (the control for the malformed cases below)."""
    _base(server_kit)
    assert h2_request(server_kit, [*_base_request(), ("x-kit", "1")], b"hello") == "200"


MALFORMED_H2 = {
    "uppercase-field-name": ([("X-Upper", "1")], b""),
    "connection-header": ([("connection", "keep-alive")], b""),
    "transfer-encoding": ([("transfer-encoding", "chunked")], b"5\r\nhello\r\n0\r\n\r\n"),
    "content-length-mismatch": ([("content-length", "10")], b"hello"),
    "te-not-trailers": ([("te", "gzip")], b""),
}


@pytest.mark.parametrize("variant", list(MALFORMED_H2))
def test_http2_malformed_request_is_refused(server_kit: Kit, variant: str) -> None:
    """RFC 9113 §8.1.1 and §8.2: uppercase field names, connection-specific fields
    (Connection, Transfer-Encoding, TE other than "trailers") and a content-length that
    disagrees with the DATA make a request malformed: a stream error or 400, never served."""
    _base(server_kit)
    extra, body = MALFORMED_H2[variant]
    answer = h2_request(server_kit, _base_request() + extra, body)
    assert answer in ("400", "reset", "goaway"), f"expected a refusal, got status {answer}"
