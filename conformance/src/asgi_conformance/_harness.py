"""The harness every conformance test runs on: building layers, loops, names, skips.

Each test method is a plain synchronous pytest method that runs its own event
loop with :func:`asyncio.run`, so adopters need no pytest plugin, and network
layers get a fresh loop (and fresh connections) per test.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, TypeVar

import pytest

__all__ = ["CAPABILITIES", "Harness"]

#: Every capability flag the suite understands, with what claiming it means.
CAPABILITIES: Mapping[str, str] = {
    "groups": "group_add / group_discard / group_send",
    "flush": "flush() empties every channel and group",
    "expiry": "queued messages expire after `expiry` seconds",
    "group_expiry": "group memberships expire after `group_expiry` seconds",
    "capacity": "send raises ChannelFull at `capacity`",
    "channel_capacity": "`channel_capacity` patterns (globs and regexes) override `capacity`",
    "process_local": "new_channel() names with '!' are routed and demultiplexed",
    "cross_process": "separate processes (and layer objects) with one config share channels",
    "cancel_safe": "a cancelled receive never loses or reorders a message",
    "large_messages": "messages up to 1 MiB serialized are accepted",
    "restartable": "restart_broker() restarts the broker; the layer then recovers by itself",
}

_T = TypeVar("_T")
_counter = itertools.count()


class Harness:
    """Configuration hooks and helpers shared by the conformance mixins."""

    __test__ = False

    #: Dotted path to the layer class, e.g. ``"asgi_redis.core.RedisChannelLayer"``.
    layer_path: ClassVar[str] = ""
    #: JSON-serializable keyword arguments every layer is built with.
    layer_kwargs: ClassVar[Mapping[str, Any]] = {}
    #: The capability flags this layer claims (see ``CAPABILITIES``).
    capabilities: ClassVar[frozenset[str]] = frozenset()
    #: How many receives the cancellation test cancels at random points.
    cancel_iterations: ClassVar[int] = 2000
    #: The smallest expiry / group_expiry (seconds) the suite configures.
    expiry_seconds: ClassVar[float] = 1.0
    #: Upper bound for one test's body; a hang fails instead of blocking CI.
    test_timeout: ClassVar[float] = 120.0
    #: How long a receive that should succeed may take before the test fails.
    receive_timeout: ClassVar[float] = 10.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The mixins and LayerConformance say __test__ = False themselves; a
        # concrete adopter subclass becomes collectable without saying anything.
        if "__test__" not in cls.__dict__:
            cls.__test__ = True

    # Hooks ---------------------------------------------------------------------

    def layer_class(self) -> type[Any]:
        """Import and return the class named by ``layer_path``."""
        if not self.layer_path or "." not in self.layer_path:
            raise TypeError(
                f"{type(self).__name__}.layer_path must be a dotted path such as "
                f"'package.module.LayerClass', got {self.layer_path!r}"
            )
        module_name, _, attr = self.layer_path.rpartition(".")
        module = importlib.import_module(module_name)
        try:
            cls: type[Any] = getattr(module, attr)
        except AttributeError:
            raise TypeError(
                f"layer_path {self.layer_path!r}: module {module_name!r} has no {attr!r}"
            ) from None
        return cls

    def make_layer(self, **overrides: Any) -> Any:
        """Build a layer from ``layer_kwargs`` updated with *overrides*."""
        return self.layer_class()(**{**self.layer_kwargs, **overrides})

    # Helpers -------------------------------------------------------------------

    def require(self, *capabilities: str) -> None:
        """Skip the running test, saying why, unless every capability is claimed."""
        for capability in capabilities:
            if capability not in CAPABILITIES:
                raise ValueError(f"unknown capability {capability!r}")
            if capability not in self.capabilities:
                pytest.skip(
                    f"{type(self).__name__} does not claim the {capability!r} capability "
                    f"({CAPABILITIES[capability]}); add it to `capabilities` to run this test"
                )

    def name(self, kind: str) -> str:
        """A channel or group name unique to this test run (safe on shared brokers)."""
        return f"conformance.{kind}.{secrets.token_hex(4)}{next(_counter)}"

    def run(
        self,
        body: Callable[[Any], Awaitable[None]],
        **overrides: Any,
    ) -> None:
        """Run ``body(layer)`` in a fresh loop on a fresh, flushed layer."""
        asyncio.run(self._run(body, overrides))

    async def _run(self, body: Callable[[Any], Awaitable[None]], overrides: Any) -> None:
        layer = self.make_layer(**overrides)
        flush = "flush" in self.capabilities
        try:
            if flush:
                await layer.flush()
            await asyncio.wait_for(body(layer), self.test_timeout)
        finally:
            try:
                if flush:
                    await layer.flush()
            finally:
                await layer.close()

    async def receive(self, layer: Any, channel: str) -> dict[str, Any]:
        """Receive one message, failing (not hanging) after ``receive_timeout``."""
        try:
            message: dict[str, Any] = await asyncio.wait_for(
                layer.receive(channel), self.receive_timeout
            )
        except asyncio.TimeoutError:
            pytest.fail(
                f"receive({channel!r}) returned nothing within {self.receive_timeout} s; "
                "a message that was sent is missing"
            )
        return message

    async def expect(self, layer: Any, channel: str, expected: dict[str, Any]) -> None:
        """Receive on *channel* and fail unless the message equals *expected*."""
        got = await self.receive(layer, channel)
        assert got == expected, f"receive({channel!r}) expected {expected!r}, got {got!r}"

    async def sleep_past_expiry(self, expiry: float | None = None) -> None:
        """Sleep well past *expiry* (default ``expiry_seconds``); brokers may round up."""
        await asyncio.sleep(2 * (expiry or self.expiry_seconds) + 0.5)
