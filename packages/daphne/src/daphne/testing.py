"""Run a daphne server in a child process for tests.

- ``DaphneProcess`` (channels' live-server test case uses it) and ``serve``, a context manager
  yielding ``(host, port)``;
- upstream's ``BaseDaphneTestingInstance`` / ``DaphneTestingInstance`` with its recording
  ``TestApplication``.

All of them run the real server (``daphne.server.Server``) on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Callable, Iterator
from typing import Any

from ._testapp import BaseDaphneTestingInstance, DaphneTestingInstance, TestApplication
from ._testprocess import DaphneProcess, ImportStringApplication

__all__ = [
    "BaseDaphneTestingInstance",
    "DaphneProcess",
    "DaphneTestingInstance",
    "ImportStringApplication",
    "TestApplication",
    "serve",
]


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
        if process.port.value == 0:
            # Ready without a port means startup failed; the error is on its way.
            try:
                error, _ = process.errors.get(timeout=timeout)
            except queue.Empty:
                error = RuntimeError("the daphne process stopped without reporting why")
            raise RuntimeError(f"daphne failed to start: {error!r}") from error
        yield host, process.port.value
    finally:
        process.terminate()
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
