"""Conformance tests for capacity, channel_capacity patterns, expiry and flush."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from asgiref.layers import ChannelFull

from ._harness import Harness

__all__ = ["LimitTests"]


class LimitTests(Harness):
    """Capacity, per-channel capacity, message expiry, flush and close."""

    __test__ = False

    def test_send_raises_channel_full_at_capacity(self) -> None:
        """send() to a channel at capacity raises ChannelFull; a receive makes room."""
        self.require("capacity")

        async def body(layer: Any) -> None:
            channel = self.name("full")
            for index in range(3):
                await layer.send(channel, {"type": "test.fill", "n": index})
            with pytest.raises(ChannelFull):
                await layer.send(channel, {"type": "test.overflow"})
            await self.expect(layer, channel, {"type": "test.fill", "n": 0})
            await layer.send(channel, {"type": "test.fill", "n": 3})
            for index in (1, 2, 3):
                await self.expect(layer, channel, {"type": "test.fill", "n": index})

        self.run(body, capacity=3)

    def test_channel_capacity_glob_and_regex_patterns(self) -> None:
        """``channel_capacity`` glob and regex patterns set per-channel limits."""
        self.require("capacity", "channel_capacity")
        small, tiny, other = self.name("small"), self.name("tiny"), self.name("other")
        patterns = {
            small.rsplit(".", 1)[0] + ".*": 2,
            re.compile(re.escape(tiny)): 1,
        }

        async def body(layer: Any) -> None:
            for channel, limit in ((small, 2), (tiny, 1), (other, 4)):
                for index in range(limit):
                    await layer.send(channel, {"type": "test.fill", "n": index})
                with pytest.raises(ChannelFull):
                    await layer.send(channel, {"type": "test.overflow"})
                for index in range(limit):
                    await self.expect(layer, channel, {"type": "test.fill", "n": index})

        self.run(body, capacity=4, channel_capacity=patterns)

    def test_group_send_skips_full_members_without_raising(self) -> None:
        """group_send() skips a full member without raising, and still reaches the others."""
        self.require("groups", "capacity")

        async def body(layer: Any) -> None:
            group, full, free = self.name("group"), self.name("full"), self.name("free")
            await layer.group_add(group, full)
            await layer.group_add(group, free)
            for index in range(2):
                await layer.send(full, {"type": "test.fill", "n": index})
            await layer.group_send(group, {"type": "test.fanout"})  # must not raise
            await self.expect(layer, free, {"type": "test.fanout"})
            await self.expect(layer, full, {"type": "test.fill", "n": 0})
            await self.expect(layer, full, {"type": "test.fill", "n": 1})
            await layer.send(full, {"type": "test.marker"})
            await self.expect(layer, full, {"type": "test.marker"})

        self.run(body, capacity=2)

    def test_queued_messages_expire(self) -> None:
        """A message left unreceived past ``expiry`` is never delivered."""
        self.require("expiry")

        async def body(layer: Any) -> None:
            channel = self.name("expiry")
            await layer.send(channel, {"type": "test.stale"})
            await self.sleep_past_expiry()
            await layer.send(channel, {"type": "test.fresh"})
            await self.expect(layer, channel, {"type": "test.fresh"})

        self.run(body, expiry=self.expiry_seconds)

    def test_messages_live_until_their_expiry(self) -> None:
        """A message is still delivered before its ``expiry`` has passed."""
        self.require("expiry")

        async def body(layer: Any) -> None:
            channel = self.name("not-yet-expired")
            await layer.send(channel, {"type": "test.alive"})
            await asyncio.sleep(self.expiry_seconds)
            await self.expect(layer, channel, {"type": "test.alive"})

        # Ten times longer than the wait: only a layer that expires early fails.
        self.run(body, expiry=self.expiry_seconds * 10)

    def test_expired_messages_free_capacity(self) -> None:
        """Expired messages stop counting against a channel's capacity."""
        self.require("expiry", "capacity")

        # Twice the smallest expiry: the second send must land before the first
        # message expires, even on a loaded machine.
        expiry = 2 * self.expiry_seconds

        async def body(layer: Any) -> None:
            channel = self.name("expiry-capacity")
            await layer.send(channel, {"type": "test.stale"})
            with pytest.raises(ChannelFull):
                await layer.send(channel, {"type": "test.overflow"})
            await self.sleep_past_expiry(expiry)
            await layer.send(channel, {"type": "test.fresh"})
            await self.expect(layer, channel, {"type": "test.fresh"})

        self.run(body, expiry=expiry, capacity=1)

    def test_flush_empties_channels_and_groups(self) -> None:
        """flush() drops queued messages and group memberships."""
        self.require("flush")

        async def body(layer: Any) -> None:
            channel, group, member = self.name("flush"), self.name("group"), self.name("member")
            await layer.send(channel, {"type": "test.flushed"})
            if "groups" in self.capabilities:
                await layer.group_add(group, member)
            await layer.flush()
            await layer.send(channel, {"type": "test.after-flush"})
            await self.expect(layer, channel, {"type": "test.after-flush"})
            if "groups" in self.capabilities:
                await layer.group_send(group, {"type": "test.to-flushed-group"})
                await layer.send(member, {"type": "test.marker"})
                await self.expect(layer, member, {"type": "test.marker"})

        self.run(body)

    def test_close_is_idempotent_and_a_new_layer_works(self) -> None:
        """close() may be called twice, and a new layer object works afterwards."""

        async def body(layer: Any) -> None:
            await layer.close()
            await layer.close()
            other = self.make_layer()
            try:
                channel = self.name("after-close")
                await other.send(channel, {"type": "test.after-close"})
                await self.expect(other, channel, {"type": "test.after-close"})
            finally:
                await other.close()

        self.run(body)
