"""``DaphneProcess``: a real daphne server in a child process, reporting its port.

Works with the ``fork`` and ``spawn`` start methods (under ``spawn``, ``get_application``,
``setup`` and ``teardown`` must be picklable).
"""

from __future__ import annotations

import multiprocessing
import pickle
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from ._appload import import_by_path

_BaseProcess: Any = multiprocessing.Process
ErrorReport = tuple[BaseException, str]


class ImportStringApplication:
    """A picklable ``get_application`` that imports ``module:attribute`` in the child."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self) -> Any:
        return import_by_path(self.path)

    def __repr__(self) -> str:
        return f"ImportStringApplication({self.path!r})"


class DaphneProcess(_BaseProcess):  # type: ignore[misc]
    """A process running ``Server(get_application(), ["tcp:port=<port>:interface=<host>"],
    **kwargs)``; ``port`` (default 0: any free port) is replaced by the bound one.

    ``ready`` is set once listening, ``port`` holds the bound port, and ``errors`` receives
    ``(exception, traceback text)`` for anything raised while starting, serving or in
    ``setup``/``teardown``; ``ready`` is set on a startup error too, so waiters wake up (the
    port then stays as given). ``setup`` runs in the child before the application is built,
    ``teardown`` after the server stopped; ``server`` is the child's ``Server``. With
    ``kwargs={"signal_handlers": True}``, ``terminate()`` stops the server as SIGTERM stops
    any daphne (see ``shutdown_timeout``) instead of killing it.
    """

    def __init__(
        self,
        host: str,
        get_application: Callable[[], Any],
        kwargs: dict[str, Any] | None = None,
        setup: Callable[[], object] | None = None,
        teardown: Callable[[], object] | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__()
        self.host = host
        self.get_application = get_application
        self.kwargs = kwargs or {}
        self.setup = setup
        self.teardown = teardown
        self.port = multiprocessing.Value("i", port if port is not None else 0)
        self.ready = multiprocessing.Event()
        self.errors: multiprocessing.Queue[ErrorReport] = multiprocessing.Queue()
        self.server: Any = None
        self._ready_callable: Callable[[], object] | None = None

    def run(self) -> None:
        # A forked child inherits the parent's warning filters (under pytest: "error"), which
        # would turn a library's deprecation notice into a failed TLS handshake; start from
        # Python's defaults, as a spawned process does. A reactor or loop inherited through
        # fork shares the parent's selector, so the child always starts a fresh one.
        warnings.resetwarnings()
        from ._reactor import forget_inherited_reactor

        forget_inherited_reactor()
        try:
            if self.setup is not None:
                self.setup()
            try:
                self._serve()
            finally:
                if self.teardown is not None:
                    self.teardown()
            error = getattr(self.server, "startup_error", None)
            if error is not None:
                raise error
        except BaseException as exc:
            self._report(exc)

    def _serve(self) -> None:
        from asgiref.compatibility import guarantee_single_callable

        from .endpoints import build_endpoint_description_strings
        from .server import Server

        application = guarantee_single_callable(self.get_application())
        kwargs = dict(self.kwargs)
        # ``endpoints`` in kwargs (e.g. an ssl: endpoint on port 0) replaces the plain TCP one.
        endpoints = kwargs.pop("endpoints", None) or build_endpoint_description_strings(
            host=self.host, port=self.port.value
        )
        self._ready_callable = kwargs.pop("ready_callable", None)
        # Off by default, as upstream: terminate() then ends the process on the spot.
        signal_handlers = kwargs.pop("signal_handlers", False)
        self.server = Server(
            application=application,
            endpoints=endpoints,
            signal_handlers=signal_handlers,
            ready_callable=self.resolve_port,
            **kwargs,
        )
        self.server.run()

    def _report(self, exc: BaseException) -> None:
        text = "".join(traceback.format_exception(exc))
        try:
            pickle.dumps(exc)
        except Exception:
            # The queue pickles in a background thread, where a failure would be lost.
            exc = RuntimeError(text)
        self.errors.put((exc, text))
        self.ready.set()

    def resolve_port(self) -> None:
        """Publish the bound port and set ``ready`` (the server calls this once listening)."""
        if self.server.listening_addresses:
            self.port.value = self.server.listening_addresses[0][1]
        if self._ready_callable is not None:
            self._ready_callable()
        self.ready.set()


__all__ = ["DaphneProcess", "ErrorReport", "ImportStringApplication"]
