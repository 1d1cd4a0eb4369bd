"""Upstream's Twisted request class, kept importable for code that names it.

Upstream Daphne parsed HTTP with ``twisted.web.http.Request`` subclasses; this server parses
requests itself (``_h1state``/``_http2``) and never builds a ``WebRequest``. The class remains a
real ``twisted.web.http.Request`` carrying the attributes upstream set on construction, so
imports, subclasses and ``isinstance`` checks keep working.
"""

from __future__ import annotations

from typing import Any

from twisted.web import http


class WebRequest(http.Request):
    """A Twisted request with upstream Daphne's per-request attributes (not used for serving)."""

    error_template = (
        "<html><head><title>%(title)s</title></head>"
        "<body><h1>%(title)s</h1><p>%(body)s</p></body></html>"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Filled in from the transport once a request is processed; None until then.
        self.client_addr: list[Any] | None = None
        self.server_addr: list[Any] | None = None
        self.client_scheme = "http"
        self.application_queue: Any = None
        self._response_started = False
        factory = getattr(self.channel, "factory", None)
        self.server: Any = getattr(factory, "server", None)


__all__ = ["WebRequest"]
