"""Choosing the request parser: httptools (C, optional) or the pure-Python one.

Both are driven through the same callbacks. Errors are normalised to ``ParseError`` with the
status to answer, and upgrades to ``UpgradeRequested`` with the offset of the upgraded bytes.
"""

from __future__ import annotations

from typing import Protocol

from ._pyparser import ParseError, PyRequestParser, UpgradeRequested

try:  # The C parser is optional; the import has no side effects beyond loading it.
    import httptools as _httptools
except ImportError:  # pragma: no cover - exercised when httptools is absent
    _httptools = None  # type: ignore[assignment]


class ParserCallbacks(Protocol):
    """What a parser calls as a request arrives (``_h1state.Http1State`` implements it)."""

    def on_message_begin(self) -> None: ...
    def on_url(self, url: bytes) -> None: ...
    def on_header(self, name: bytes, value: bytes) -> None: ...
    def on_headers_complete(self) -> None: ...
    def on_body(self, data: bytes) -> None: ...
    def on_message_complete(self) -> None: ...


class RequestParser(Protocol):
    """What both parsers offer: httptools' ``HttpRequestParser`` and ``PyRequestParser``."""

    def feed_data(self, data: bytes) -> None: ...
    def get_method(self) -> bytes: ...
    def get_http_version(self) -> str: ...
    def should_upgrade(self) -> bool: ...


def httptools_available() -> bool:
    return _httptools is not None


def make_parser(handler: ParserCallbacks, use_httptools: bool) -> RequestParser:
    if use_httptools and _httptools is not None:
        parser: RequestParser = _httptools.HttpRequestParser(handler)
        return parser
    return PyRequestParser(handler)


#: What ``feed_data`` raises that ``translate_error`` turns into ours (httptools' errors).
PARSER_ERRORS: tuple[type[Exception], ...] = (
    (_httptools.HttpParserUpgrade, _httptools.HttpParserError) if _httptools is not None else ()
)


def feed(parser: RequestParser, data: bytes) -> None:
    """Feed bytes, translating httptools' exceptions into ours."""
    try:
        parser.feed_data(data)
    except PARSER_ERRORS as exc:
        raise translate_error(exc) from None


def translate_error(exc: Exception) -> BaseException:
    """The exception to raise for one of ``PARSER_ERRORS``: ``UpgradeRequested`` with the
    offset, the callback's own exception (it carries the status to answer), or
    ``ParseError``."""
    assert _httptools is not None
    if isinstance(exc, _httptools.HttpParserUpgrade):
        return UpgradeRequested(exc.args[0])
    if isinstance(exc, _httptools.HttpParserCallbackError) and exc.__context__ is not None:
        return exc.__context__
    return ParseError(f"invalid request: {exc}")


__all__ = [
    "PARSER_ERRORS",
    "ParseError",
    "ParserCallbacks",
    "RequestParser",
    "UpgradeRequested",
    "feed",
    "httptools_available",
    "make_parser",
    "translate_error",
]
