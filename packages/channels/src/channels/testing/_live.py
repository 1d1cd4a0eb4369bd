"""``ChannelsLiveServerTestCase``: the real stack on a real socket.

daphne serves ``ASGI_APPLICATION`` (plus static files) from a child process
started through ``daphne.testing.DaphneProcess``. Everything handed to the
child is picklable, so the ``spawn`` start method works: the child sets
Django up itself and points its connections at this test's databases.
"""

from __future__ import annotations

import functools
import queue
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.test import TransactionTestCase
from django.test.utils import modify_settings
from django.utils.functional import classproperty

from .._routing import get_default_application
from .._types import ASGIApp

__all__ = ["ChannelsLiveServerTestCase", "make_application", "use_databases"]


def make_application(*, static_wrapper: Any = None) -> ASGIApp:
    """Build the application the live server runs (in the child process)."""
    import django

    django.setup(set_prefix=False)
    application = get_default_application()
    if static_wrapper is not None:
        application = static_wrapper(application)
    return application


def use_databases(names: dict[str, str]) -> None:
    """Child-process setup: use the parent's test database names."""
    import django

    django.setup(set_prefix=False)
    for alias, name in names.items():
        connections[alias].settings_dict["NAME"] = name


def _is_in_memory(alias: str) -> bool:
    connection = connections[alias]
    return bool(connection.vendor == "sqlite" and connection.is_in_memory_db())  # type: ignore[attr-defined]


def _daphne_process_class() -> Any:
    try:
        from daphne.testing import DaphneProcess
    except ImportError as exc:
        raise ImproperlyConfigured(
            "ChannelsLiveServerTestCase needs daphne: pip install 'channels[daphne]'"
        ) from exc
    return DaphneProcess


class ChannelsLiveServerTestCase(TransactionTestCase):
    """Like Django's LiveServerTestCase, but serving ASGI (HTTP and WebSocket) via daphne.

    One server process runs per test class (as Django's live server thread
    does); every test of the class talks to it through ``live_server_url``
    and ``live_server_ws_url``.
    """

    host = "localhost"
    serve_static = True
    ProtocolServerProcess: Any = None
    _port: int = 0
    _server_process: Any = None
    _live_server_modified_settings: Any = None

    @classproperty
    def static_wrapper(cls) -> Any:
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        return ASGIStaticFilesHandler

    @classproperty
    def live_server_url(cls) -> str:
        return f"http://{cls.host}:{cls._port}"

    @classproperty
    def live_server_ws_url(cls) -> str:
        return f"ws://{cls.host}:{cls._port}"

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        try:
            cls._start_server()
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls._stop_server()
        super().tearDownClass()

    @classmethod
    def _start_server(cls) -> None:
        for alias in connections:
            if _is_in_memory(alias):
                raise ImproperlyConfigured(
                    f"ChannelsLiveServerTestCase cannot use the in-memory database {alias!r}: "
                    f"the server runs in another process; set DATABASES[{alias!r}]['TEST']"
                    f"['NAME'] to a file"
                )
        cls._live_server_modified_settings = modify_settings(ALLOWED_HOSTS={"append": cls.host})
        cls._live_server_modified_settings.enable()
        process_class = cls.ProtocolServerProcess or _daphne_process_class()
        wrapper = cls.static_wrapper if cls.serve_static else None
        names = {alias: str(connections[alias].settings_dict["NAME"]) for alias in connections}
        cls._server_process = process_class(
            cls.host,
            functools.partial(make_application, static_wrapper=wrapper),
            setup=functools.partial(use_databases, names),
        )
        cls._server_process.start()
        cls._wait_until_ready()
        cls._port = int(cls._server_process.port.value)

    @classmethod
    def _wait_until_ready(cls) -> None:
        # daphne sets ``ready`` also when startup failed (then the port stays
        # 0 and the error is queued); a child that died without a word must
        # not leave the test hanging either.
        process = cls._server_process
        while not process.ready.wait(timeout=0.5):
            if not process.is_alive():
                break
        if process.ready.is_set() and process.port.value:
            return
        try:
            error = process.errors.get(timeout=5)
        except queue.Empty:
            error = f"process exited with code {process.exitcode}"
        cls._stop_server()
        raise RuntimeError(f"The live server process failed to start: {error!r}")

    @classmethod
    def _stop_server(cls) -> None:
        process = getattr(cls, "_server_process", None)
        if process is None:
            return
        cls._server_process = None
        if process.is_alive():
            process.terminate()
        process.join()
        cls._live_server_modified_settings.disable()
