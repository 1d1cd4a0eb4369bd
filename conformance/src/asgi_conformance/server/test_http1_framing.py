"""HTTP/1.1 message framing and request smuggling (RFC 9112 §5-§7)."""

from __future__ import annotations

import json

import pytest

from ._checks import describe, get, not_smuggled, refused
from ._kit import Kit
from ._wire import request

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: kit.test\r\n\r\n"
HIDDEN = b"0\r\n\r\n" + SMUGGLED


def _post(*headers: bytes, body: bytes = HIDDEN, version: bytes = b"HTTP/1.1") -> bytes:
    head = b"POST /echo " + version + b"\r\nHost: kit.test\r\n" + b"".join(headers)
    return head + b"\r\n" + body


# name -> (raw request, statuses required of the first response, or None: any, then close)
SMUGGLING: dict[str, tuple[bytes, set[int] | None]] = {
    "cl-te": (_post(b"Content-Length: 5\r\n", b"Transfer-Encoding: chunked\r\n"), None),
    "te-cl": (_post(b"Transfer-Encoding: chunked\r\n", b"Content-Length: 5\r\n"), None),
    "te-not-last": (
        _post(b"Transfer-Encoding: chunked, identity\r\n", b"Content-Length: 5\r\n"),
        {400},
    ),
    "te-list-across-lines": (
        _post(b"Transfer-Encoding: chunked\r\n", b"Transfer-Encoding: identity\r\n"),
        {400},
    ),
    "te-space-before-colon": (
        _post(b"Transfer-Encoding : chunked\r\n", b"Content-Length: 5\r\n"),
        {400},
    ),
    "te-quoted": (_post(b'Transfer-Encoding: "chunked"\r\n', b"Content-Length: 5\r\n"), None),
    "te-xchunked": (_post(b"Transfer-Encoding: xchunked\r\n", b"Content-Length: 5\r\n"), None),
    "te-folded": (_post(b"Transfer-Encoding:\r\n chunked\r\n", b"Content-Length: 5\r\n"), None),
    "te-vertical-tab": (
        _post(b"Transfer-Encoding:\x0bchunked\r\n", b"Content-Length: 5\r\n"),
        None,
    ),
    "te-in-http10": (
        _post(b"Transfer-Encoding: chunked\r\n", b"Content-Length: 5\r\n", version=b"HTTP/1.0"),
        None,
    ),
    "cl-duplicate-different": (
        _post(b"Content-Length: 4\r\n", b"Content-Length: 40\r\n", body=b"0\r\n\r\n" + SMUGGLED),
        {400},
    ),
    "cl-list-different": (_post(b"Content-Length: 4, 40\r\n", body=HIDDEN), {400}),
    "cl-plus-sign": (_post(b"Content-Length: +4\r\n", body=HIDDEN), {400}),
    "cl-negative": (_post(b"Content-Length: -1\r\n", body=HIDDEN), {400}),
    "cl-hex": (_post(b"Content-Length: 0x4\r\n", body=HIDDEN), {400}),
    "cl-overflow": (_post(b"Content-Length: 18446744073709551621\r\n", body=HIDDEN), {400, 413}),
}


@pytest.mark.parametrize("variant", list(SMUGGLING))
def test_ambiguous_framing_never_smuggles_a_request(server_kit: Kit, variant: str) -> None:
    """RFC 9112 §6.1 and §6.3: a request whose body length is ambiguous (Content-Length with
    Transfer-Encoding, chunked not last, obfuscated or invalid codings, conflicting lengths)
    is rejected or processed by Transfer-Encoding alone, and the connection is closed: the
    request hidden in its body is never answered. Cases where RFC 9112 says MUST respond
    400 require 400."""
    raw, statuses = SMUGGLING[variant]
    not_smuggled(server_kit, raw, statuses)


CHUNK_ERRORS = {
    "size-overflow": b"ffffffffffffffffffff1\r\nx\r\n0\r\n\r\n",
    "size-negative": b"-5\r\nhello\r\n0\r\n\r\n",
    "size-hex-prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
    "size-not-hex": b"5g\r\nhello\r\n0\r\n\r\n",
    "data-longer-than-size": b"5\r\nhelloEXTRA\r\n0\r\n\r\n",
    "size-empty": b"\r\nhello\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("variant", list(CHUNK_ERRORS))
def test_invalid_chunked_body_is_rejected(server_kit: Kit, variant: str) -> None:
    """RFC 9112 §7.1: chunk-size is 1*HEXDIG and chunk-data is followed by CRLF; an invalid
    chunk (overflowing, negative, 0x-prefixed, non-hex size, data longer than the size) is
    answered 400 (or the connection is closed), never passed to the app as a body."""
    raw = _post(b"Transfer-Encoding: chunked\r\n", body=CHUNK_ERRORS[variant] + SMUGGLED)
    not_smuggled(server_kit, raw, {400, 413})


def test_content_length_body_reaches_the_app(server_kit: Kit) -> None:
    """RFC 9112 §6.2: Content-Length gives the body length; the app receives the body."""
    response = get(server_kit, request("POST", "/echo", body=b"hello world"), "POST")
    assert (response.status, response.body) == (200, b"hello world")


def test_chunked_body_with_extensions_and_trailers_reaches_the_app(server_kit: Kit) -> None:
    """RFC 9112 §7.1: chunk extensions are ignored, trailer fields end the body; the app
    receives the chunk data joined."""
    body = b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
    response = get(server_kit, _post(b"Transfer-Encoding: chunked\r\n", body=body), "POST")
    assert (response.status, response.body) == (200, b"hello world")


def test_host_is_required_in_http11(server_kit: Kit) -> None:
    """RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without Host."""
    refused(server_kit, request("GET", "/", host=None), {400})


def test_two_host_fields_are_rejected(server_kit: Kit) -> None:
    """RFC 9112 §3.2: a server MUST respond 400 to a request with more than one Host line."""
    refused(server_kit, request("GET", "/", ("Host", "other.test")), {400})


@pytest.mark.parametrize("value", ["exa mple.test", "user@kit.test", "kit.test/path"])
def test_invalid_host_value_is_rejected(server_kit: Kit, value: str) -> None:
    """RFC 9112 §3.2: a server MUST respond 400 to a Host field with an invalid value
    (uri-host [":" port]: no spaces, userinfo or path)."""
    refused(server_kit, request("GET", "/", host=value), {400})


def test_http10_without_host_is_served(server_kit: Kit) -> None:
    """RFC 9112 §3.2: Host is required from HTTP/1.1 on; an HTTP/1.0 request without it is
    served."""
    assert get(server_kit, request("GET", "/", version="HTTP/1.0", host=None)).status == 200


def test_absolute_form_target_is_accepted(server_kit: Kit) -> None:
    """RFC 9112 §3.2.2: a server MUST accept the absolute-form; the path is its path part."""
    response = get(server_kit, request("GET", "http://kit.test/scope?q=1"))
    assert response.status == 200 and response.header("x-kit-path") == "/scope", (
        f"expected the app to see path /scope, got {describe(response)}"
    )
    scope = json.loads(response.body)
    assert (scope["path"], scope["query_string"]) == ("/scope", {"bytes": "q=1"})


BAD_HEADS = {
    "space-in-target": b"GET /a b HTTP/1.1\r\nHost: kit.test\r\n\r\n",
    "bad-method-token": b"G(ET / HTTP/1.1\r\nHost: kit.test\r\n\r\n",
    "lowercase-version": b"GET / http/1.1\r\nHost: kit.test\r\n\r\n",
    "garbage-version": b"GET / HTTP/one\r\nHost: kit.test\r\n\r\n",
    "space-in-field-name": b"GET / HTTP/1.1\r\nHost: kit.test\r\nBad Name: x\r\n\r\n",
    "field-without-colon": b"GET / HTTP/1.1\r\nHost: kit.test\r\nNoColon\r\n\r\n",
    "empty-field-name": b"GET / HTTP/1.1\r\nHost: kit.test\r\n: value\r\n\r\n",
    "nul-in-field-value": b"GET / HTTP/1.1\r\nHost: kit.test\r\nX-A: a\x00b\r\n\r\n",
    "cr-in-field-value": b"GET / HTTP/1.1\r\nHost: kit.test\r\nX-A: a\rb\r\n\r\n",
}


@pytest.mark.parametrize("variant", list(BAD_HEADS))
def test_malformed_request_head_is_rejected(server_kit: Kit, variant: str) -> None:
    """RFC 9112 §2.2, §3, §5 and RFC 9110 §5.5: a request line or field line that does not
    match the grammar (bad token, whitespace, missing colon, NUL or bare CR in a value) is
    answered 400 (or 505 for an unknown version) or the connection is closed."""
    refused(server_kit, BAD_HEADS[variant], {400, 505}, close_ok=True)


def test_http2_version_in_an_http1_request_line_is_not_served(server_kit: Kit) -> None:
    """RFC 9110 §15.6.6 / RFC 9112 §2.3: a major version the server does not speak over
    HTTP/1 framing gets 505 (or 400), never a normal response."""
    refused(server_kit, b"GET / HTTP/2.0\r\nHost: kit.test\r\n\r\n", {400, 505}, close_ok=True)
