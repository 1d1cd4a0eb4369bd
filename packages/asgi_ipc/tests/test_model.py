"""Stateful model test: two clients of one prefix against a plain-Python model.

Hypothesis drives random sends, receives, group changes and flushes through
two layer instances (two clients of one segment) and checks every result
against dicts and deques, and the shared structures after every step.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from typing import Any

import pytest
from asgi_ipc.core import IPCChannelLayer
from asgiref.layers import ChannelFull
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

CAPACITY = 4
NORMAL = ["model.a", "model.b"]
GROUPS = ["room.x", "room.y"]


class LayerModel(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.prefix = f"model-{secrets.token_hex(4)}"
        options = {
            "prefix": self.prefix,
            "capacity": CAPACITY,
            "message_memory": 1 << 20,
            "group_memory": 1 << 18,
        }
        self.clients = [IPCChannelLayer(**options), IPCChannelLayer(**options)]
        self.local = [self.run(self.clients[0].new_channel()) for _ in range(2)]
        self.channels = NORMAL + self.local
        self.queues: dict[str, deque[int]] = {name: deque() for name in self.channels}
        # Client 0's local channels share one shared queue (its inbox), and
        # capacity counts that queue, as in channels_redis. A receive on one
        # local channel moves earlier inbox messages of the other into a
        # local buffer, where they no longer count.
        self.inbox: deque[str] = deque()
        self.buffered = dict.fromkeys(self.local, 0)
        # Member order matters when a fan-out meets a full inbox: re-adding
        # moves a member to the end, as the layer does.
        self.groups: dict[str, dict[str, None]] = {name: {} for name in GROUPS}
        self.counter = 0

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, 10))

    def teardown(self) -> None:
        if hasattr(self, "loop"):
            for client in self.clients:
                self.run(client.flush())
                self.run(client.close())
            self.loop.close()

    @rule(client=st.integers(0, 1), index=st.integers(0, 3))
    def send(self, client: int, index: int) -> None:
        channel = self.channels[index]
        self.counter += 1
        if self.shared_length(channel) >= CAPACITY:
            with pytest.raises(ChannelFull):
                self.run(self.clients[client].send(channel, {"n": self.counter}))
            return
        self.run(self.clients[client].send(channel, {"n": self.counter}))
        self.deliver(channel)

    def shared_length(self, channel: str) -> int:
        return len(self.inbox) if channel in self.local else len(self.queues[channel])

    def deliver(self, channel: str) -> None:
        self.queues[channel].append(self.counter)
        if channel in self.local:
            self.inbox.append(channel)

    @precondition(lambda self: any(self.queues.values()))
    @rule(index=st.integers(0, 3), client=st.integers(0, 1))
    def receive(self, index: int, client: int) -> None:
        candidates = [name for name in self.channels if self.queues[name]]
        channel = candidates[index % len(candidates)]
        # Process-local channels belong to client 0; normal ones to anyone.
        receiver = self.clients[0 if channel in self.local else client]
        message = self.run(receiver.receive(channel))
        assert message == {"n": self.queues[channel].popleft()}
        if channel in self.local:
            if self.buffered[channel]:
                self.buffered[channel] -= 1
            else:
                # The pump moved inbox messages up to this one's into buffers.
                while (taken := self.inbox.popleft()) != channel:
                    self.buffered[taken] += 1

    @rule(group=st.sampled_from(GROUPS), index=st.integers(0, 3), add=st.booleans())
    def membership(self, group: str, index: int, add: bool) -> None:
        channel = self.channels[index]
        if add:
            self.run(self.clients[1].group_add(group, channel))
            self.groups[group].pop(channel, None)
            self.groups[group][channel] = None
        else:
            self.run(self.clients[1].group_discard(group, channel))
            self.groups[group].pop(channel, None)

    @rule(group=st.sampled_from(GROUPS), client=st.integers(0, 1))
    def group_send(self, group: str, client: int) -> None:
        self.counter += 1
        self.run(self.clients[client].group_send(group, {"n": self.counter}))
        for channel in self.groups[group]:
            if self.shared_length(channel) < CAPACITY:
                self.deliver(channel)

    @rule(client=st.integers(0, 1))
    def flush(self, client: int) -> None:
        self.run(self.clients[client].flush())
        for queue in self.queues.values():
            queue.clear()
        self.inbox.clear()
        self.buffered = dict.fromkeys(self.local, 0)
        for members in self.groups.values():
            members.clear()

    @invariant()
    def shared_state_matches(self) -> None:
        if hasattr(self, "loop"):
            stats = self.clients[1].check_integrity()
            # Local channels may already sit in client 0's buffers; the
            # shared queues hold at most what the model holds.
            assert stats["messages"] <= sum(len(queue) for queue in self.queues.values())
            assert stats["memberships"] == sum(len(members) for members in self.groups.values())


TestLayerModel = LayerModel.TestCase
TestLayerModel.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)
