"""The daphne server, usable from Python as ``Server(application, endpoints).run()``.

``twisted_loop`` is the asyncio event loop the Twisted reactor runs on. Upstream Daphne created
it (and installed the reactor) when this module was imported; here it is created on first
access instead, and ``Server.run()`` drives that same loop. ``ASGI_THREADS`` sets the size of
its default thread pool.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._server import Server

__all__ = ["Server", "twisted_loop"]

twisted_loop: asyncio.AbstractEventLoop  # provided by __getattr__ below, on first access


def __getattr__(name: str) -> Any:
    if name == "twisted_loop":
        from ._reactor import reactor_loop

        return reactor_loop()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
