"""Run a daphne server in a child process for tests (channels' live server uses this).

``DaphneProcess`` works with the ``spawn`` start method: ``get_application``, ``setup`` and
``teardown`` must be picklable (module-level functions or picklable callables).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.process
import queue
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from ._appload import import_by_path

__all__ = ["DaphneProcess", "ImportStringApplication", "serve"]

_BaseProcess: Any = multiprocessing.Process


class ImportStringApplication:
    """A picklable ``get_application`` that imports ``module:attribute`` in the child."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self) -> Any:
        return import_by_path(self.path)

    def __repr__(self) -> str:
        return f"ImportStringApplication({self.path!r})"


class DaphneProcess(_BaseProcess):  # type: ignore[misc]
    """A process running ``Server(get_application(), ["tcp:port=0:interface=<host>"], **kwargs)``.

    ``ready`` is set once listening, ``port`` holds the bound port, ``errors`` receives any
    exception raised while starting (then ``ready`` is set too, so waiters wake up).
    """

    def __init__(
        self,
        host: str,
        get_application: Callable[[], Any],
        kwargs: dict[str, Any] | None = None,
        setup: Callable[[], object] | None = None,
        teardown: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.host = host
        self.get_application = get_application
        self.kwargs = kwargs or {}
        self.setup = setup
        self.teardown = teardown
        self.port = multiprocessing.Value("i")
        self.ready = multiprocessing.Event()
        self.errors: multiprocessing.Queue[BaseException] = multiprocessing.Queue()

    def run(self) -> None:
        # A forked child inherits the parent's warning filters (under pytest: "error"), which
        # would turn a library's deprecation notice into a failed TLS handshake; start from
        # Python's defaults, as a spawned process does.
        warnings.resetwarnings()
        from asgiref.compatibility import guarantee_single_callable

        from .endpoints import build_endpoint_description_strings
        from .server import Server

        try:
            if self.setup is not None:
                self.setup()
            application = guarantee_single_callable(self.get_application())
            kwargs = dict(self.kwargs)
            # ``endpoints`` in kwargs (e.g. an ssl: endpoint on port 0) replaces the plain TCP one.
            endpoints = kwargs.pop("endpoints", None) or build_endpoint_description_strings(
                host=self.host, port=0
            )
            self.server = Server(
                application=application,
                endpoints=endpoints,
                signal_handlers=False,
                ready_callable=self.resolve_port,
                **kwargs,
            )
            self.server.run()
            error = getattr(self.server, "startup_error", None)
            if error is not None:
                raise error
        except BaseException as exc:
            self._report(exc)
        finally:
            if self.teardown is not None:
                self.teardown()

    def _report(self, exc: BaseException) -> None:
        try:
            self.errors.put(exc)
        except Exception:
            self.errors.put(RuntimeError("".join(traceback.format_exception(exc))))
        self.ready.set()

    def resolve_port(self) -> None:
        self.port.value = self.server.listening_addresses[0][1]
        self.ready.set()


@contextlib.contextmanager
def serve(
    application: str | Callable[[], Any],
    host: str = "127.0.0.1",
    timeout: float = 30.0,
    **server_kwargs: Any,
) -> Iterator[tuple[str, int]]:
    """Start a server process on a free port and yield ``(host, port)``; stop it on exit.

    ``application`` is an import string (``"module:app"``) or a picklable factory returning the
    application.
    """
    factory = ImportStringApplication(application) if isinstance(application, str) else application
    process = DaphneProcess(host, factory, kwargs=server_kwargs)
    process.start()
    try:
        if not process.ready.wait(timeout):
            raise TimeoutError(f"expected the daphne process to listen within {timeout}s")
        error: BaseException | None = None
        if process.port.value == 0:
            # Ready without a port means startup failed; the error is on its way.
            try:
                error = process.errors.get(timeout=timeout)
            except queue.Empty:
                error = RuntimeError("the daphne process stopped without reporting why")
        if error is not None:
            raise RuntimeError(f"daphne failed to start: {error!r}") from error
        yield host, process.port.value
    finally:
        process.terminate()
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
