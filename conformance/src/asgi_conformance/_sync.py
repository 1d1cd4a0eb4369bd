"""Conformance tests for layers called from synchronous code.

Django code talks to a layer as ``async_to_sync(layer.group_send)(...)`` from views,
signal handlers, Celery tasks and sync consumers. Each such call from a plain thread
runs on asgiref's shared event loop, and asgiref cancels the tasks a call leaves
behind when it returns (as a per-call loop did in asgiref 3.x). A layer must keep
working across such calls: background machinery it starts lazily inside one call
must not be lost with that call, and nothing may be delivered twice or out of order.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from ._harness import Harness

__all__ = ["SyncUsageTests"]


class SyncUsageTests(Harness):
    """Layers used through ``async_to_sync`` from threads without an event loop."""

    __test__ = False

    def _sync_layer(self) -> Any:
        layer = self.make_layer()
        if "flush" in self.capabilities:
            async_to_sync(layer.flush)()
        return layer

    def _sync_cleanup(self, layer: Any) -> None:
        try:
            if "flush" in self.capabilities:
                async_to_sync(layer.flush)()
        finally:
            async_to_sync(layer.close)()

    def _in_thread(self, target: Any, *args: Any) -> None:
        """Run *target* in a fresh plain thread and re-raise what it raised."""
        errors: list[BaseException] = []

        def main() -> None:
            try:
                target(*args)
            except BaseException as exc:  # re-raised in the caller
                errors.append(exc)

        thread = threading.Thread(target=main, name="conformance-sync-caller")
        thread.start()
        thread.join(self.test_timeout)
        assert not thread.is_alive(), "a sync caller did not return: the layer hung"
        if errors:
            raise errors[0]

    def test_sync_calls_deliver_in_order_exactly_once(self) -> None:
        """Successive async_to_sync send/receive calls deliver each message once, in order."""

        def body(layer: Any) -> None:
            channel = self.name("sync")
            for n in range(3):
                async_to_sync(layer.send)(channel, {"type": "test.sync", "n": n})
                got = async_to_sync(self.receive)(layer, channel)
                assert got == {"type": "test.sync", "n": n}, f"call {n} received {got!r}"

        layer = self._sync_layer()
        try:
            self._in_thread(body, layer)
        finally:
            self._sync_cleanup(layer)

    def test_sync_group_calls_deliver_in_order_exactly_once(self) -> None:
        """Successive async_to_sync group_send calls reach a member once each, in order."""
        self.require("groups", "process_local")

        def body(layer: Any) -> None:
            group = self.name("syncgroup")
            channel = async_to_sync(layer.new_channel)()
            async_to_sync(layer.group_add)(group, channel)
            for n in range(3):
                async_to_sync(layer.group_send)(group, {"type": "test.group", "n": n})
                got = async_to_sync(self.receive)(layer, channel)
                assert got == {"type": "test.group", "n": n}, f"call {n} received {got!r}"
            async_to_sync(layer.group_discard)(group, channel)

        layer = self._sync_layer()
        try:
            self._in_thread(body, layer)
        finally:
            self._sync_cleanup(layer)

    @pytest.mark.parametrize("kind", ["process_local", "normal"])
    def test_sync_group_calls_reach_each_kind_of_channel_once(self, kind: str) -> None:
        """Re-joining before each sync group_send still delivers each message once."""
        # Joining again on every call, as a sync consumer's handler might: each
        # group_send is still delivered once, and nothing is left over afterwards.
        self.require("groups", *(["process_local"] if kind == "process_local" else []))

        def body(layer: Any) -> None:
            group = self.name("syncjoin")
            local = kind == "process_local"
            channel = async_to_sync(layer.new_channel)() if local else self.name("syncjoin")
            for n in range(3):
                async_to_sync(layer.group_add)(group, channel)
                async_to_sync(layer.group_send)(group, {"type": "test.join", "n": n})
                got = async_to_sync(self.receive)(layer, channel)
                assert got == {"type": "test.join", "n": n}, f"call {n} received {got!r}"
            assert async_to_sync(self._nothing_arrives)(layer, channel), (
                "a group message was delivered twice"
            )

        layer = self._sync_layer()
        try:
            self._in_thread(body, layer)
        finally:
            self._sync_cleanup(layer)

    async def _nothing_arrives(self, layer: Any, channel: str) -> bool:
        try:
            await asyncio.wait_for(layer.receive(channel), 0.5)
        except asyncio.TimeoutError:
            return True
        return False

    def test_sync_sender_and_receiver_in_different_threads(self) -> None:
        """What sync calls in one thread send, sync calls in another receive, in order."""
        layer = self._sync_layer()
        channel = self.name("syncpair")
        received: list[dict[str, Any]] = []

        def send_all() -> None:
            for n in range(5):
                async_to_sync(layer.send)(channel, {"type": "test.pair", "n": n})

        def receive_all() -> None:
            for _ in range(5):
                received.append(async_to_sync(self.receive)(layer, channel))

        try:
            self._in_thread(send_all)
            self._in_thread(receive_all)
        finally:
            self._sync_cleanup(layer)
        assert [m["n"] for m in received] == [0, 1, 2, 3, 4], received
