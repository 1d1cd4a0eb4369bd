"""Installing Twisted's asyncio reactor, on demand (never at import time: upstream #195)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._config import LOOPS

logger = logging.getLogger("daphne.server")


def uvloop_available() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def check_loop(kind: str) -> None:
    """Refuse an unknown loop name, or ``uvloop`` when it is not installed."""
    if kind not in LOOPS:
        raise ValueError(f"expected loop to be one of {', '.join(LOOPS)}, got {kind!r}")
    if kind == "uvloop" and not uvloop_available():
        raise RuntimeError("loop='uvloop' requires 'pip install uvloop'")


def new_event_loop(kind: str = "auto") -> asyncio.AbstractEventLoop:
    """A fresh event loop: ``uvloop``, ``asyncio`` (the standard one) or ``auto`` (uvloop when
    installed). Twisted drives sockets through the loop's reader/writer callbacks, which both
    implement; uvloop runs those callbacks, timers and tasks with less overhead.
    """
    check_loop(kind)
    if kind == "uvloop" or (kind == "auto" and uvloop_available()):
        import uvloop

        return uvloop.new_event_loop()  # type: ignore[no-any-return]
    return asyncio.new_event_loop()


_reactor_loop: asyncio.AbstractEventLoop | None = None


def reactor_loop(kind: str = "auto") -> asyncio.AbstractEventLoop:
    """The event loop the Twisted reactor runs (or will run) on: ``daphne.server.twisted_loop``.

    An installed asyncio reactor's loop is returned as is. Otherwise one loop is created on
    first use and kept, so code that reads ``twisted_loop`` before ``Server.run()`` gets the
    loop the server will drive. ``ASGI_THREADS`` (read now, never at import) sizes its default
    executor, which ``run_in_executor(None, ...)`` and ``sync_to_async(thread_sensitive=False)``
    use.
    """
    global _reactor_loop
    existing = sys.modules.get("twisted.internet.reactor")
    running_on = getattr(existing, "_asyncioEventloop", None)
    if isinstance(running_on, asyncio.AbstractEventLoop):
        return running_on
    if _reactor_loop is None or _reactor_loop.is_closed():
        _reactor_loop = new_event_loop(kind)
        threads = os.environ.get("ASGI_THREADS")
        if threads:
            try:
                workers = int(threads)
            except ValueError:
                raise ValueError(
                    f"expected ASGI_THREADS to be a number of threads, got {threads!r}"
                ) from None
            _reactor_loop.set_default_executor(ThreadPoolExecutor(max_workers=workers))
    return _reactor_loop


def forget_inherited_reactor() -> None:
    """Drop a reactor and loop inherited through ``fork`` (a child must not share the parent's
    selector); the next :func:`install_asyncio_reactor` starts afresh."""
    global _reactor_loop
    sys.modules.pop("twisted.internet.reactor", None)
    _reactor_loop = None


def install_asyncio_reactor(loop: str = "auto") -> Any:
    """Return an asyncio-backed reactor, installing one on a fresh event loop if needed.

    A reactor that is already installed and asyncio-backed is reused (with whatever loop it
    has). A different reactor that has not started yet is replaced (with a warning), because
    ASGI applications need the asyncio loop to be the one driving the sockets. ``loop`` picks
    the event loop for a new reactor (see :func:`new_event_loop`).
    """
    from twisted.internet import asyncioreactor

    existing = sys.modules.get("twisted.internet.reactor")
    if existing is not None:
        if isinstance(existing, asyncioreactor.AsyncioSelectorReactor):
            return existing
        if getattr(existing, "running", False):
            raise RuntimeError(
                "expected the asyncio Twisted reactor, got a running "
                f"{type(existing).__name__}; install daphne's reactor before starting Twisted"
            )
        logger.warning(
            "A non-asyncio Twisted reactor (%s) was installed; replacing it with the asyncio one",
            type(existing).__name__,
        )
        del sys.modules["twisted.internet.reactor"]
    event_loop = reactor_loop(loop)
    asyncio.set_event_loop(event_loop)
    from twisted.internet.main import installReactor

    reactor = _lean_reactor_class()(event_loop)
    installReactor(reactor)  # type: ignore[no-untyped-call]
    return reactor


def _lean_reactor_class() -> Any:
    from twisted.internet import asyncioreactor, main, tcp
    from twisted.internet.posixbase import _NO_FILEDESC

    stock_do_read = tcp.Connection.doRead
    stock_data_received = tcp.Connection._dataReceived
    would_block = getattr(tcp, "EWOULDBLOCK", None)

    class LeanAsyncioReactor(asyncioreactor.AsyncioSelectorReactor):
        """The asyncio reactor, minus Twisted's per-event log-context wrapper on reads.

        Every readable event otherwise goes through ``callWithLogger`` (two context-manager
        layers that only label legacy log lines). Errors in ``doRead`` are still caught,
        logged and turned into a disconnect by ``_readOrWrite``. A TCP connection with
        Twisted's own ``doRead`` is read by ``_read_tcp``, the same steps in one call. If a
        Twisted release changes the private attributes used here, the stock registration is
        kept.
        """

        def addReader(self, reader: Any) -> None:
            super().addReader(reader)  # type: ignore[no-untyped-call]
            fd = getattr(self, "_readers", {}).get(reader)
            callback = getattr(self, "_readOrWrite", None)
            if fd is None or callback is None:
                return
            kind = type(reader)
            if (
                isinstance(reader, tcp.Connection)
                and kind.doRead is stock_do_read
                and kind._dataReceived is stock_data_received
                and would_block is not None
                and hasattr(self, "_disconnectSelectable")
            ):
                self._asyncioEventloop.add_reader(fd, self._read_tcp, reader)
            else:
                self._asyncioEventloop.add_reader(fd, callback, reader, True)

        def _read_tcp(self, reader: Any) -> None:
            """``_readOrWrite(reader, True)`` with ``tcp.Connection.doRead`` and
            ``_dataReceived`` inlined: a read costs one Python call instead of three."""
            if reader.fileno() == -1:
                self._disconnectSelectable(reader, _NO_FILEDESC, True)  # type: ignore[no-untyped-call]
                return
            why: Any = None
            try:
                try:
                    data = reader.socket.recv(reader.bufferSize)
                except OSError as error:
                    if error.args[0] != would_block:
                        why = main.CONNECTION_LOST
                else:
                    if data:
                        reader.protocol.dataReceived(data)
                    else:
                        why = main.CONNECTION_DONE
            except Exception as error:
                why = error
                self._log.failure(None)  # type: ignore[arg-type]
            if why:
                self._disconnectSelectable(reader, why, True)  # type: ignore[no-untyped-call]

    return LeanAsyncioReactor


__all__ = [
    "LOOPS",
    "check_loop",
    "forget_inherited_reactor",
    "install_asyncio_reactor",
    "new_event_loop",
    "reactor_loop",
    "uvloop_available",
]
