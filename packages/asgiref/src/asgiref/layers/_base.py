"""The abstract channel-layer interface.

Every layer (in-memory, Redis, RabbitMQ, shared memory, third-party) subclasses
:class:`BaseChannelLayer`. The guarantees each method gives are written down in
``conformance/README.md`` and checked by the ``asgi_conformance`` suite.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from ._capacity import CapacityMatcher, CapacityPattern, CapacitySetting, compile_capacities
from ._names import (
    DEFAULT_CHANNEL_PREFIX,
    MAX_NAME_LENGTH,
    UPSTREAM_INVALID_NAME,
    non_local_name,
    require_valid_channel_name,
    require_valid_channel_names,
    require_valid_group_name,
)

__all__ = ["BaseChannelLayer", "ChannelLayer"]


@runtime_checkable
class ChannelLayer(Protocol):
    """Structural type of a channel layer, for code that only talks to one."""

    extensions: list[str]

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Send *message* to *channel*."""

    async def receive(self, channel: str) -> dict[str, Any]:
        """Wait for and return the next message on *channel*."""

    async def new_channel(self, prefix: str = DEFAULT_CHANNEL_PREFIX) -> str:
        """Return a new channel name this process can receive on."""


class BaseChannelLayer:
    """Base class for channel layers.

    ``extensions`` lists the optional parts a layer implements: ``"groups"``
    (``group_add``/``group_discard``/``group_send``) and ``"flush"``.

    Subclasses implement the coroutine methods; the defaults raise
    ``NotImplementedError`` so that a partial layer fails loudly.
    """

    MAX_NAME_LENGTH: ClassVar[int] = MAX_NAME_LENGTH
    extensions: list[str] = []
    #: Upstream's message template for a bad name (``.format("Channel")``); kept for
    #: code that builds its own errors from it. Our errors also say what was wrong.
    invalid_name_error: ClassVar[str] = UPSTREAM_INVALID_NAME

    #: Upstream's name patterns, for subclasses that match names themselves.
    channel_name_regex: ClassVar[re.Pattern[str]] = re.compile(
        r"^[a-zA-Z0-9\-_.]+(![a-zA-Z0-9\-_.]*)?$", re.ASCII
    )
    group_name_regex: ClassVar[re.Pattern[str]] = re.compile(r"^[a-zA-Z0-9\-_.]+$", re.ASCII)

    def __init__(
        self,
        expiry: float = 60,
        capacity: int = 100,
        channel_capacity: Mapping[CapacityPattern, int] | None = None,
    ) -> None:
        self.expiry = expiry
        self.capacity = capacity
        self.channel_capacity: CapacitySetting = channel_capacity
        self._capacities = CapacityMatcher(capacity, channel_capacity)

    # Capacity -----------------------------------------------------------------

    def compile_capacities(self, channel_capacity: CapacitySetting) -> list[tuple[Any, int]]:
        """``(regex, capacity)`` pairs for a ``channel_capacity`` setting, as upstream's.

        Layers written for upstream assign the result to ``self.channel_capacity``
        (without calling this class's ``__init__``); ``get_capacity`` follows it.
        """
        return compile_capacities(channel_capacity)

    def get_capacity(self, channel: str) -> int:
        """Return the capacity of *channel*, after ``channel_capacity`` patterns.

        Follows ``self.capacity`` and ``self.channel_capacity`` as they are now,
        even when a subclass set them itself or changed them after construction.
        """
        matcher = self.__dict__.get("_capacities")
        capacity = getattr(self, "capacity", 100)
        setting = getattr(self, "channel_capacity", None)
        if matcher is None or matcher.source is not setting or matcher.default != capacity:
            matcher = self._capacities = CapacityMatcher(capacity, setting)
        result: int = matcher.capacity_for(channel)
        return result

    def match_type_and_length(self, name: object) -> bool:
        """Whether *name* is a str shorter than ``MAX_NAME_LENGTH`` (upstream's helper)."""
        return isinstance(name, str) and len(name) < self.MAX_NAME_LENGTH

    # Names (thin wrappers over the pure rules, kept for upstream compatibility) -

    def require_valid_channel_name(self, name: str, receive: bool = False) -> bool:
        """Return True if *name* is a valid channel name, else raise ``TypeError``.

        With ``receive=True`` a process-local name (one containing ``!``) must end at the ``!``.
        """
        require_valid_channel_name(name, receive=receive)
        return True

    def require_valid_group_name(self, name: str) -> bool:
        """Return True if *name* is a valid group name, else raise ``TypeError``."""
        require_valid_group_name(name)
        return True

    def valid_channel_names(self, names: Iterable[str], receive: bool = False) -> bool:
        """Return True if every name in *names* is a valid channel name, else raise ``TypeError``.

        An empty *names* is a ``TypeError`` too.
        """
        names = list(names)
        if not names:
            raise TypeError("At least one channel name is required")
        require_valid_channel_names(names, receive=receive)
        return True

    def non_local_name(self, name: str) -> str:
        """The part of a channel name that every process can see: up to and including ``!``."""
        return non_local_name(name)

    def valid_channel_name(self, name: str, receive: bool = False) -> bool:
        """Deprecated alias of :meth:`require_valid_channel_name`, as upstream's."""
        warnings.warn(
            "valid_channel_name is deprecated, use require_valid_channel_name instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.require_valid_channel_name(name, receive=receive)

    def valid_group_name(self, name: str) -> bool:
        """Deprecated alias of :meth:`require_valid_group_name`, as upstream's."""
        warnings.warn(
            "valid_group_name is deprecated, use require_valid_group_name instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.require_valid_group_name(name)

    # The interface ------------------------------------------------------------

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Send *message* (a dict with a ``type`` key) to *channel*.

        Raises ``ChannelFull`` when the channel already holds its capacity of messages.
        """
        raise NotImplementedError("send() needs to be implemented by the layer")

    async def receive(self, channel: str) -> dict[str, Any]:
        """Wait for and return the next message on *channel*, oldest first."""
        raise NotImplementedError("receive() needs to be implemented by the layer")

    async def new_channel(self, prefix: str = DEFAULT_CHANNEL_PREFIX) -> str:
        """Return a new, unique channel name that this process can receive on."""
        raise NotImplementedError("new_channel() needs to be implemented by the layer")

    async def group_add(self, group: str, channel: str) -> None:
        """Add *channel* to *group*, until it is discarded or ``group_expiry`` passes."""
        raise NotImplementedError("This layer does not support groups")

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove *channel* from *group*; nothing happens if it was not a member."""
        raise NotImplementedError("This layer does not support groups")

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send *message* to every member of *group*; a full member misses it, the rest get it."""
        raise NotImplementedError("This layer does not support groups")

    async def flush(self) -> None:
        """Drop every message and group under this layer's prefix (for tests)."""
        raise NotImplementedError("This layer does not support flush")

    async def close(self) -> None:
        """Release connections and tasks; the default has nothing to release."""
