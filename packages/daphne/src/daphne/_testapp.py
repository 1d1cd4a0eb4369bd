"""Upstream's file-backed test application and the context managers that run it.

``DaphneTestingInstance`` starts a real server (``DaphneProcess``) whose application is a
``TestApplication``: it records the scope and every message it receives, and answers each one
with the messages the test queued through ``add_send_messages``. Parent and child exchange
these through two pickle files in the temporary directory (the names upstream used), so only
one instance runs at a time per machine user.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import queue
import tempfile
from typing import Any

from ._testprocess import DaphneProcess
from ._types import Message, Receive, Scope, Send

_DISCONNECTS = frozenset({"http.disconnect", "websocket.disconnect"})


class TestApplication:
    """Records what it receives and replies with the queued messages (see module docstring)."""

    __test__ = False  # not a pytest test class, despite the name
    setup_storage = os.path.join(tempfile.gettempdir(), "setup.testio")
    result_storage = os.path.join(tempfile.gettempdir(), "result.testio")

    def __init__(self, lock: Any) -> None:
        self.lock = lock
        self.messages: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # not supported: the server carries on without it (lifespan "auto")
        self.scope = scope
        try:
            while True:
                message = await receive()
                self.messages.append(message)
                with self.lock:
                    self.save_result(scope, self.messages)
                if message.get("type") in _DISCONNECTS:
                    return  # nothing follows a disconnect
                replies = self.load_setup()["response_messages"]
                self.delete_setup()
                for reply in replies:
                    await send(reply)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            with self.lock:
                self.save_exception(exc)

    @classmethod
    def save_setup(cls, response_messages: list[Message]) -> None:
        """Queue *response_messages* as the replies to the next message the app receives.

        Written to ``setup_storage`` (a pickle file, replaced atomically), so the parent
        process calls it and the server process reads it; a second call before the app
        received anything replaces the first list. The messages must be picklable.
        """
        _dump(cls.setup_storage, {"response_messages": response_messages})

    @classmethod
    def load_setup(cls) -> dict[str, Any]:
        """The queued replies, as ``{"response_messages": [...]}``.

        An empty list when nothing is queued (no setup file); the file is not removed
        (``delete_setup`` does that).
        """
        try:
            return _load(cls.setup_storage)
        except FileNotFoundError:
            return {"response_messages": []}

    @classmethod
    def save_result(cls, scope: Scope, messages: list[Message]) -> None:
        """Record *scope* and every message received so far, as ``{"scope", "messages"}``.

        Replaces the previous record in ``result_storage``; the app calls it holding its
        lock, after each message, so ``load_result`` always sees a whole record.
        """
        _dump(cls.result_storage, {"scope": scope, "messages": messages})

    @classmethod
    def save_exception(cls, exception: BaseException) -> None:
        """Record that the app failed with *exception*, as ``{"exception": exception}``.

        Replaces any recorded scope and messages; ``DaphneTestingInstance.get_received``
        re-raises it in the test process. The exception must be picklable.
        """
        _dump(cls.result_storage, {"exception": exception})

    @classmethod
    def load_result(cls) -> dict[str, Any]:
        """The latest record: ``{"scope", "messages"}`` or ``{"exception"}``.

        Raises ``FileNotFoundError`` when the app has recorded nothing since the last
        ``delete_result``.
        """
        return _load(cls.result_storage)

    @classmethod
    def delete_setup(cls) -> None:
        """Forget the queued replies (the app does this once it has sent them).

        Does nothing when none are queued.
        """
        _remove(cls.setup_storage)

    @classmethod
    def delete_result(cls) -> None:
        """Forget the recorded result, so the next ``load_result`` sees only new traffic.

        Does nothing when there is none.
        """
        _remove(cls.result_storage)


def _dump(path: str, data: dict[str, Any]) -> None:
    # Written aside and renamed, so a reader never sees half a file.
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "wb") as stream:
        pickle.dump(data, stream)
    os.replace(partial, path)


def _load(path: str) -> dict[str, Any]:
    with open(path, "rb") as stream:
        data: dict[str, Any] = pickle.load(stream)
    return data


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class BaseDaphneTestingInstance:
    """Runs ``application`` in a ``DaphneProcess`` on 127.0.0.1; ``host`` and ``port`` are set
    inside the ``with`` block. Subclasses may override ``process_setup``/``process_teardown``
    (run in the server process) and ``get_application``.
    """

    startup_timeout: float = 10

    def __init__(
        self,
        xff: bool = False,
        http_timeout: float | None = None,
        request_buffer_size: int | None = None,
        websocket_max_message_size: int | None = None,
        websocket_max_frame_size: int | None = None,
        *,
        application: Any,
    ) -> None:
        self.xff = xff
        self.http_timeout = http_timeout
        self.host = "127.0.0.1"
        self.request_buffer_size = request_buffer_size
        self.websocket_max_message_size = websocket_max_message_size
        self.websocket_max_frame_size = websocket_max_frame_size
        self.application = application

    def __getstate__(self) -> dict[str, Any]:
        # Under ``spawn`` the bound methods handed to the child pickle this instance; the
        # process handle stays with the parent.
        state = dict(self.__dict__)
        state.pop("process", None)
        return state

    def get_application(self) -> Any:
        """The ASGI application to serve, called in the server process.

        Returns the ``application`` given to the constructor; override it to build the
        application in the child instead (under the ``spawn`` start method the bound method
        is pickled with this instance, so the instance must be picklable).
        """
        return self.application

    def server_kwargs(self) -> dict[str, Any]:
        """The ``Server`` keyword arguments this instance's options stand for."""
        # Leaving the ``with`` block stops the server as SIGTERM stops any daphne, with no
        # grace for work in progress: what the application already sent is flushed to the
        # client first. A kill could land between two writes of one response and cut off
        # its end while the test is still reading it.
        kwargs: dict[str, Any] = {"signal_handlers": True, "shutdown_timeout": 0}
        if self.request_buffer_size:
            kwargs["request_buffer_size"] = self.request_buffer_size
        if self.xff:
            kwargs["proxy_forwarded_address_header"] = "X-Forwarded-For"
            kwargs["proxy_forwarded_port_header"] = "X-Forwarded-Port"
            kwargs["proxy_forwarded_proto_header"] = "X-Forwarded-Proto"
        if self.http_timeout:
            kwargs["http_timeout"] = self.http_timeout
        if self.websocket_max_message_size is not None:
            kwargs["websocket_max_message_size"] = self.websocket_max_message_size
        if self.websocket_max_frame_size is not None:
            kwargs["websocket_max_frame_size"] = self.websocket_max_frame_size
        return kwargs

    def __enter__(self) -> Any:
        self.process = DaphneProcess(
            host=self.host,
            get_application=self.get_application,
            kwargs=self.server_kwargs(),
            setup=self.process_setup,
            teardown=self.process_teardown,
        )
        # Daemonic, so a server whose ``with`` block never ran its exit (the test was
        # interrupted) dies with the test process instead of keeping it from exiting.
        self.process.daemon = True
        self.process.start()
        started = False
        try:
            if self.process.ready.wait(self.startup_timeout) and self.process.port.value:
                self.port = self.process.port.value
                started = True
                return self
            # The queue hands items over through a feeder thread: wait for the report rather
            # than trusting empty(). Ready without a port means it is on its way.
            try:
                report = self.process.errors.get(timeout=5 if self.process.ready.is_set() else 0.5)
            except queue.Empty:
                report = None
        finally:
            if not started:
                self._stop()
        if report is None:
            raise RuntimeError("Daphne did not start up, no error caught")
        raise RuntimeError(f"Daphne did not start up:\n{report[1]}")

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def _stop(self) -> None:
        process = self.__dict__.pop("process", None)
        if process is not None:
            process.terminate()
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()

    def process_setup(self) -> None:
        """Called in the server process before it starts serving."""

    def process_teardown(self) -> None:
        """Called in the server process after it stopped serving."""

    def get_received(self) -> Any:
        """What the served application received; ``None`` here, as nothing records it.

        Subclasses whose application records its traffic return it (see
        ``DaphneTestingInstance.get_received``).
        """
        return None


class DaphneTestingInstance(BaseDaphneTestingInstance):
    """A ``TestApplication`` served by daphne: queue replies, then read what it received."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lock = multiprocessing.Lock()
        super().__init__(*args, application=TestApplication(lock=self.lock), **kwargs)

    def __enter__(self) -> Any:
        TestApplication.delete_setup()
        TestApplication.delete_result()
        return super().__enter__()

    def get_received(self) -> tuple[Scope, list[Message]]:
        """The scope and every message received so far; re-raises the application's error."""
        try:
            with self.lock:
                result = TestApplication.load_result()
        except FileNotFoundError:
            raise ValueError("No results available yet.") from None
        if "exception" in result:
            raise result["exception"]
        return result["scope"], result["messages"]

    def add_send_messages(self, messages: list[Message]) -> None:
        """Queue messages the application sends after the next message it receives."""
        TestApplication.save_setup(response_messages=messages)


__all__ = ["BaseDaphneTestingInstance", "DaphneTestingInstance", "TestApplication"]
