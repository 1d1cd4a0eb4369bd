"""Consumers: one instance per connection, dispatching messages by type.

``AsyncConsumer`` owns the whole lifecycle; ``SyncConsumer`` is a thin
adapter whose handlers run in Django's thread-sensitive executor (with
stale-connection cleanup) and whose ``send`` blocks until the message left.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from asgiref.sync import async_to_sync

from . import DEFAULT_CHANNEL_LAYER
from ._db import aclose_old_connections, database_sync_to_async
from ._dispatcher import DispatchLoop
from ._frames import handler_name
from ._layers import get_channel_layer
from ._types import ASGIApp, Message, Receive, Scope, Send
from .exceptions import StopConsumer

__all__ = ["AsyncConsumer", "SyncConsumer", "get_handler_name"]

logger = logging.getLogger("channels.consumer")


def get_handler_name(message: dict[str, Any]) -> str:
    """Return the method name for *message*'s ``type`` (``a.b`` -> ``a_b``)."""
    return handler_name(message)


def _is_protocol_handler(name: str) -> bool:
    return name.startswith(("websocket_", "http_"))


def stable_channel_name(scope: Scope) -> str | None:
    """The channel name a gateway keeps for this connection across workers, if any.

    In daphne's gateway mode ``scope["extensions"]["daphne.gateway"]["channel_name"]``
    names a channel that outlives the worker: a consumer that receives on it
    keeps its group memberships when the connection moves to another worker.
    """
    gateway = (scope.get("extensions") or {}).get("daphne.gateway") or {}
    name = gateway.get("channel_name")
    return name if isinstance(name, str) else None


def _final_types(scope: Scope) -> frozenset[str]:
    """The client message after which a connection's ``receive()`` has nothing new to say."""
    kind = scope.get("type")
    return frozenset({f"{kind}.disconnect"}) if kind in ("http", "websocket") else frozenset()


class AsyncConsumer:
    """Base consumer. Subclasses define ``async def <type_with_underscores>(message)``.

    Set ``max_concurrent_handlers`` above 1 to run channel-layer messages
    concurrently (see the README for the ordering this keeps).
    """

    _sync: ClassVar[bool] = False
    # Names belonging to channels' own consumer classes; a message type that
    # maps onto one of them (for example ``{"type": "send"}``) must not be able
    # to call it.
    _framework_names: ClassVar[frozenset[str]] = frozenset()
    #: Client message types that cancel running handlers (HTTP disconnects).
    interrupt_types: ClassVar[frozenset[str]] = frozenset()

    channel_layer_alias: str = DEFAULT_CHANNEL_LAYER
    max_concurrent_handlers: int = 1
    #: Close stale database connections before each handler, as Django does
    #: around a request. Costs one hop to the thread-sensitive executor per
    #: message while any database connection is open (none otherwise); a
    #: consumer that never touches the database can turn it off.
    close_old_db_connections: bool = True

    scope: Scope
    channel_layer: Any
    channel_name: str
    channel_receive: Callable[[], Awaitable[Message]]
    base_send: Callable[[Message], Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._framework_names = frozenset(
            name
            for klass in cls.__mro__
            if klass.__module__.startswith("channels.")
            for name in vars(klass)
            if not _is_protocol_handler(name)
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Subclasses in the wild take their own arguments (``__init__(self,
        # schema, **kwargs)``) and pass the rest up, so the base accepts
        # anything. Keywords that reach it become instance attributes.
        for key, value in kwargs.items():
            setattr(self, key, value)

    @classmethod
    def as_asgi(cls, **initkwargs: Any) -> ASGIApp:
        """Return an ASGI application that builds one consumer per connection.

        ``initkwargs`` go to the constructor, ``cls(**initkwargs)``, for every
        connection; the base constructor turns them into instance attributes.
        """

        async def app(scope: Scope, receive: Receive, send: Send) -> Any:
            consumer = cls(**initkwargs)
            return await consumer(scope, receive, send)

        app.consumer_class = cls  # type: ignore[attr-defined]
        app.consumer_initkwargs = initkwargs  # type: ignore[attr-defined]
        functools.update_wrapper(app, cls, updated=())
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._reset_connection_state()
        self.scope = scope
        self.channel_layer = None
        self.base_send = async_to_sync(send) if self._sync else send
        try:
            await self._serve(receive)
        except StopConsumer:
            await self._consumer_finished(None)
        except asyncio.CancelledError as exc:
            await self._finish_quietly(exc)
            raise
        except BaseException as exc:
            # A handler's error reaches the server at once, as upstream's does:
            # no user code (``disconnect()``) runs first, only the framework's
            # own bookkeeping (leaving ``groups``).
            await self._release_quietly(exc)
            raise

    async def _serve(self, receive: Receive) -> None:
        sources: list[Callable[[], Awaitable[Message]]] = [receive]
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        if self.channel_layer is not None:
            stable = stable_channel_name(self.scope)
            self.channel_name = stable or await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        loop = DispatchLoop(
            sources,
            self.dispatch,
            max_concurrency=1 if self._sync else self.max_concurrent_handlers,
            interrupt_types=self.interrupt_types,
            final_types=_final_types(self.scope),
        )
        await loop.run()

    async def _finish_quietly(self, exc: BaseException) -> None:
        # The original exception (or cancellation) is what the server must
        # see; a failing cleanup is logged rather than replacing it.
        try:
            await self._consumer_finished(exc)
        except Exception:
            logger.exception("Cleanup of %s after %r failed", type(self).__name__, exc)

    def _reset_connection_state(self) -> None:
        """Hook: forget what a previous connection of this instance left behind."""

    async def _release_quietly(self, exc: BaseException) -> None:
        try:
            await self._consumer_failed(exc)
        except Exception:
            logger.exception("Cleanup of %s after %r failed", type(self).__name__, exc)

    async def _consumer_finished(self, exc: BaseException | None) -> None:
        """Hook run once on a clean stop (*exc* None) or a cancellation (*exc*)."""

    async def _consumer_failed(self, exc: BaseException) -> None:
        """Hook run once when a handler raised *exc*; must not run user code."""

    def _resolve_handler(self, message: Message) -> Callable[[Message], Any]:
        name = handler_name(message)
        if name in self._framework_names:
            raise ValueError(
                f"Message type {message['type']!r} maps to {name!r}, which is part of the "
                f"consumer API, not a message handler"
            )
        handler = getattr(self, name, None)
        if handler is None or not callable(handler):
            raise ValueError(
                f"No handler for message type {message['type']} "
                f"({type(self).__name__} has no method {name!r})"
            )
        return handler  # type: ignore[no-any-return]

    async def dispatch(self, message: Message) -> None:
        """Run the handler for *message*."""
        handler = self._resolve_handler(message)
        if self.close_old_db_connections:
            await aclose_old_connections()
        await handler(message)

    async def send(self, message: Message) -> None:
        """Send *message* to the server."""
        await self.base_send(message)


class SyncConsumer(AsyncConsumer):
    """Consumer whose handlers are plain functions, run in a worker thread."""

    _sync: ClassVar[bool] = True

    async def dispatch(self, message: Message) -> None:
        handler = self._resolve_handler(message)
        await database_sync_to_async(handler)(message)

    def send(self, message: Message) -> None:  # type: ignore[override]
        """Send *message* to the server, blocking until it is handed over."""
        self.base_send(message)
