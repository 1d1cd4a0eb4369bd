"""Conformance test: the broker restarts under traffic and the layer recovers by itself.

For layers that claim ``restartable`` and override :meth:`restart_broker`. One
layer object carries traffic (sends, group_sends, and receive loops on a channel
and a group member) while the adopter's hook restarts the broker. Traffic in
flight may be lost (delivery is at most once: nothing may arrive twice), and
calls may fail during the outage, but only with clear exceptions. Once the
hook returns, the same layer object must recover with no help within
``restart_recovery_timeout``: send, receive, ``new_channel`` and group_send
work again, the receive loops that were running get new messages, groups
joined after the restart work, another layer object shares channels with it
(``cross_process``), and no background task died with an unretrieved
exception or is left pending after ``close()``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, ClassVar

import pytest

from ._harness import Harness
from ._watch import LoopWatch, run_watched, unclear_failure

__all__ = ["BrokerRestartTests"]

#: Seconds of traffic before the restart begins.
_TRAFFIC_LEAD = 0.2


class _Traffic:
    """Sends, group_sends and receive loops that keep going through an outage."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.received: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self.unclear: list[str] = []
        self.stop = asyncio.Event()

    def _failed(self, call: str, exc: Exception) -> None:
        reason = unclear_failure(exc)
        if reason is not None:
            self.unclear.append(f"{call} raised {reason}: {exc!r}")

    async def produce(self, channel: str, group: str | None) -> None:
        n = 0
        while not self.stop.is_set():
            message = {"type": "test.traffic", "n": n}
            try:
                await self.layer.send(channel, message)
                if group is not None:
                    await self.layer.group_send(group, message)
            except Exception as exc:  # the outage: allowed if it is clear
                self._failed("a send or group_send during the restart", exc)
                await asyncio.sleep(0.05)
            n += 1
            await asyncio.sleep(0.01)

    async def consume(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except Exception as exc:
                self._failed("a receive during the restart", exc)
                await asyncio.sleep(0.05)
                continue
            self.received[channel].append(message)

    async def wait_for_marker(self, channel: str, marker: dict[str, Any], timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while marker not in self.received[channel]:
            if loop.time() > deadline:
                pytest.fail(
                    f"the receive loop on {channel!r}, running since before the restart, did "
                    f"not get {marker!r} within {timeout} s after the layer had recovered"
                )
            await asyncio.sleep(0.01)

    def check(self) -> None:
        assert not self.unclear, "unclear failures during the restart: " + "; ".join(self.unclear)
        for channel, messages in self.received.items():
            numbers = [m["n"] for m in messages if m.get("type") == "test.traffic"]
            twice = sorted({n for n in numbers if numbers.count(n) > 1})
            assert not twice, f"{channel!r} received traffic messages twice: {twice[:10]}"


class BrokerRestartTests(Harness):
    """A broker restart under traffic: at most once, then recovery with no user action."""

    __test__ = False

    #: How long after ``restart_broker()`` returns the layer may take to work again.
    restart_recovery_timeout: ClassVar[float] = 60.0

    def restart_broker(self) -> None:
        """Stop the broker the layers of this class use and start it again, same address.

        Return once it accepts connections again. Runs in a worker thread while the
        layer's event loop keeps running, so blocking calls (subprocesses, sleeps) are fine.
        """
        raise NotImplementedError(
            f"{type(self).__name__} claims the 'restartable' capability, so it must override "
            "restart_broker() to stop its broker and start it again on the same address"
        )

    def test_layer_recovers_by_itself_after_a_broker_restart(self) -> None:
        """After a broker restart under traffic, the same layer object recovers unaided."""
        self.require("restartable")

        async def body(watch: LoopWatch) -> None:
            layer = self.make_layer()
            try:
                await self._restart_under_traffic(layer)
                if "flush" in self.capabilities:
                    await layer.flush()
            finally:
                await layer.close()
            await watch.assert_no_tasks_left("close() of the layer that lived through the restart")

        run_watched(body, self.test_timeout)

    async def _restart_under_traffic(self, layer: Any) -> None:
        groups = "groups" in self.capabilities
        work, group = self.name("restart-work"), self.name("restart-group")
        member = await self._new_member(layer)
        await layer.send(work, {"type": "test.before"})
        await self.expect(layer, work, {"type": "test.before"})
        if groups:
            await layer.group_add(group, member)
        traffic = _Traffic(layer)
        consumers = [asyncio.ensure_future(traffic.consume(work))]
        if groups:
            consumers.append(asyncio.ensure_future(traffic.consume(member)))
        producer = asyncio.ensure_future(traffic.produce(work, group if groups else None))
        try:
            await asyncio.sleep(_TRAFFIC_LEAD)
            await asyncio.to_thread(self.restart_broker)
            traffic.stop.set()
            await self._bounded(producer, "a send or group_send in flight during the restart")
            await self._until_recovered(layer)
            await self._works_after_restart(layer, traffic, work, group, member)
            ended = [task for task in consumers if task.done()]
            assert not ended, f"a receive loop ended during the restart: {ended}"
            traffic.check()
        finally:
            for task in [*consumers, producer]:
                task.cancel()
            await asyncio.gather(*consumers, producer, return_exceptions=True)

    async def _new_member(self, layer: Any) -> str:
        if "process_local" in self.capabilities:
            name: str = await layer.new_channel("conformance.restart.")
            return name
        return self.name("restart-member")

    async def _bounded(self, task: asyncio.Future[Any], what: str) -> None:
        done, _ = await asyncio.wait([task], timeout=self.restart_recovery_timeout)
        if not done:
            pytest.fail(f"{what} never returned ({self.restart_recovery_timeout} s)")
        if task.cancelled():
            pytest.fail(f"{what} ended with CancelledError, uncancelled")
        exc = task.exception()
        if exc is not None:
            raise exc

    async def _probe(self, layer: Any) -> None:
        """One round trip through each kind of call the layer claims."""
        channel = self.name("probe")
        await layer.send(channel, {"type": "test.probe"})
        assert await layer.receive(channel) == {"type": "test.probe"}
        if "process_local" in self.capabilities:
            local = await layer.new_channel("conformance.probe.")
            await layer.send(local, {"type": "test.probe-local"})
            assert await layer.receive(local) == {"type": "test.probe-local"}
        if "groups" in self.capabilities:
            group, member = self.name("probe-group"), self.name("probe-member")
            await layer.group_add(group, member)
            await layer.group_send(group, {"type": "test.probe-group"})
            assert await layer.receive(member) == {"type": "test.probe-group"}

    async def _until_recovered(self, layer: Any) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.restart_recovery_timeout
        last: BaseException | None = None
        while True:
            try:
                await asyncio.wait_for(self._probe(layer), self.receive_timeout)
                return
            except Exception as exc:  # still reconnecting (or a probe message was lost)
                reason = unclear_failure(exc)
                assert reason is None, f"a call while recovering raised {reason}: {exc!r}"
                last = exc
            if loop.time() > deadline:
                pytest.fail(
                    f"the layer did not recover by itself within {self.restart_recovery_timeout}"
                    f" s after the broker restarted; its last attempt failed with {last!r}"
                )
            await asyncio.sleep(0.1)

    async def _works_after_restart(
        self, layer: Any, traffic: _Traffic, work: str, group: str, member: str
    ) -> None:
        marker = {"type": "test.after-restart"}
        await layer.send(work, marker)
        await traffic.wait_for_marker(work, marker, self.receive_timeout)
        if "groups" in self.capabilities:
            # Memberships may have been lost with the broker's data: join again.
            await layer.group_add(group, member)
            await layer.group_send(group, marker)
            await traffic.wait_for_marker(member, marker, self.receive_timeout)
            new_group, new_member = self.name("new-group"), await self._new_member(layer)
            await layer.group_add(new_group, new_member)
            await layer.group_send(new_group, {"type": "test.new-group"})
            await self.expect(layer, new_member, {"type": "test.new-group"})
        if "cross_process" in self.capabilities:
            other = self.make_layer()
            try:
                there, back = self.name("to-other"), self.name("from-other")
                await layer.send(there, {"type": "test.to-other"})
                await self.expect(other, there, {"type": "test.to-other"})
                await other.send(back, {"type": "test.from-other"})
                await self.expect(layer, back, {"type": "test.from-other"})
            finally:
                await other.close()
