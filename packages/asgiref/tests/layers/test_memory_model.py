"""Stateful property test: the in-memory layer behaves like a trivially correct model.

Hypothesis drives random sequences of send / receive / group operations /
clock jumps / flush against the layer (with a fake clock) and against a model
made of plain lists, and compares every outcome. Receives on an empty channel
are cancelled by a short real timeout, which exercises the cancellation path.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.layers import ChannelFull, _memory
from asgiref.layers._memory import InMemoryChannelLayer
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

CAPACITY, EXPIRY, GROUP_EXPIRY = 3, 10.0, 25.0
channels = st.sampled_from(["a", "b", "c", "local.x!1", "local.x!2"])
groups = st.sampled_from(["g1", "g2"])


class LayerModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0
        self._real_clock = _memory.monotonic
        _memory.monotonic = lambda: self.now  # type: ignore[assignment]
        self.loop = asyncio.new_event_loop()
        self.layer = InMemoryChannelLayer(
            expiry=EXPIRY, group_expiry=GROUP_EXPIRY, capacity=CAPACITY
        )
        self.queues: dict[str, list[tuple[float, int]]] = {}
        self.members: dict[str, dict[str, float]] = {}
        self.serial = 0

    def teardown(self) -> None:
        _memory.monotonic = self._real_clock  # type: ignore[assignment]
        self.loop.close()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def live(self, channel: str) -> list[tuple[float, int]]:
        queue = [item for item in self.queues.get(channel, []) if item[0] > self.now]
        self.queues[channel] = queue
        return queue

    def model_deliver(self, channel: str, n: int) -> bool:
        queue = self.live(channel)
        if len(queue) >= CAPACITY:
            return False
        queue.append((self.now + EXPIRY, n))
        return True

    @rule(channel=channels)
    def send(self, channel: str) -> None:
        self.serial += 1
        accepted = self.model_deliver(channel, self.serial)
        try:
            self.run(self.layer.send(channel, {"n": self.serial}))
        except ChannelFull:
            assert not accepted, f"ChannelFull on {channel} with {self.live(channel)}"
        else:
            assert accepted, f"{channel} accepted beyond capacity"

    @rule(channel=channels)
    def receive(self, channel: str) -> None:
        queue = self.live(channel)
        try:
            got = self.run(asyncio.wait_for(self.layer.receive(channel), 0.001))
        except asyncio.TimeoutError:
            assert not queue, f"receive({channel}) timed out with {queue} queued"
        else:
            assert queue, f"receive({channel}) returned {got} from an empty channel"
            assert got == {"n": queue.pop(0)[1]}

    @rule(seconds=st.sampled_from([0.5, 3.0, 9.99, 10.0, 12.0, 30.0]))
    def advance(self, seconds: float) -> None:
        self.now += seconds

    @rule(group=groups, channel=channels)
    def group_add(self, group: str, channel: str) -> None:
        self.members.setdefault(group, {})[channel] = self.now + GROUP_EXPIRY
        self.run(self.layer.group_add(group, channel))

    @rule(group=groups, channel=channels)
    def group_discard(self, group: str, channel: str) -> None:
        self.members.get(group, {}).pop(channel, None)
        self.run(self.layer.group_discard(group, channel))

    @rule(group=groups)
    def group_send(self, group: str) -> None:
        self.serial += 1
        for channel, deadline in self.members.get(group, {}).items():
            if deadline > self.now:
                self.model_deliver(channel, self.serial)
        self.run(self.layer.group_send(group, {"n": self.serial}))

    @rule()
    def flush(self) -> None:
        self.queues.clear()
        self.members.clear()
        self.run(self.layer.flush())

    @invariant()
    def bookkeeping_is_bounded(self) -> None:
        layer = self.layer
        # Every channel holding messages has exactly one heap entry.
        scheduled = [name for name, state in layer._channels.items() if state.scheduled]
        assert sorted(name for _, _, name in layer._heads) == sorted(scheduled)
        for state in layer._channels.values():
            assert state.scheduled or not state.messages
            assert not state.waiters


TestLayerModel = LayerModel.TestCase
TestLayerModel.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
