"""Conformance tests for new_channel() and process-local ("!") channels."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ._harness import Harness

__all__ = ["LocalChannelTests"]

#: ``<prefix>.<owner>!<local>``: the owner (the layer instance that receives) is one
#: segment without ``.``; the local part names the channel inside it.
_LOCAL_NAME = re.compile(r"(?P<prefix>.*?\.?)(?P<owner>[A-Za-z0-9_-]+)!(?P<local>[A-Za-z0-9._-]+)")


class LocalChannelTests(Harness):
    """Unique new_channel() names, routing and demultiplexing of local channels."""

    __test__ = False

    def test_new_channel_names_are_valid_and_unique(self) -> None:
        """new_channel() names are valid channel names, unique, and keep a given prefix."""

        async def body(layer: Any) -> None:
            names = [await layer.new_channel() for _ in range(500)]
            names += [await layer.new_channel("conformance.custom.") for _ in range(100)]
            assert len(set(names)) == len(names), "new_channel() returned a name twice"
            for name in names:
                assert isinstance(name, str) and 0 < len(name) < 100, name
            for name in names[500:]:
                assert name.startswith("conformance.custom."), f"prefix was dropped: {name!r}"

        self.run(body)

    def test_new_channel_names_have_the_process_local_format(self) -> None:
        """new_channel() names are ``<prefix>.<owner>!<local>``, one owner per layer object."""
        self.require("process_local")

        async def body(layer: Any) -> None:
            cases = [
                (await layer.new_channel(), "specific."),
                (await layer.new_channel("specific."), "specific."),
                (await layer.new_channel("specific"), "specific."),
                (await layer.new_channel("conformance.custom"), "conformance.custom."),
            ]
            owners = set()
            for name, prefix in cases:
                match = _LOCAL_NAME.fullmatch(name)
                assert match is not None, (
                    f"expected a name of the form <prefix>.<owner>!<local>, got {name!r}"
                )
                assert match["prefix"] == prefix, (
                    f"expected the prefix to be joined to the owner by one '.' "
                    f"({prefix!r}), got {match['prefix']!r} in {name!r}"
                )
                owners.add(match["owner"])
            assert len(owners) == 1, f"one layer object's names name one owner, got {owners}"

        self.run(body)

    def test_new_channel_can_be_used(self) -> None:
        """A channel from new_channel() can be sent to and received from."""

        async def body(layer: Any) -> None:
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "test.new"})
            await self.expect(layer, channel, {"type": "test.new"})

        self.run(body)

    def test_process_local_channels_are_demultiplexed(self) -> None:
        """Process-local channels of one owner each get only their own messages, in order."""
        self.require("process_local")

        async def body(layer: Any) -> None:
            first, second = await layer.new_channel(), await layer.new_channel()
            assert "!" in first and "!" in second, (first, second)
            await layer.send(first, {"type": "test.one", "n": 1})
            await layer.send(second, {"type": "test.two", "n": 2})
            await layer.send(first, {"type": "test.one", "n": 3})
            # Read the second channel first: its message must not be blocked or
            # consumed by the first channel's queue.
            await self.expect(layer, second, {"type": "test.two", "n": 2})
            await self.expect(layer, first, {"type": "test.one", "n": 1})
            await self.expect(layer, first, {"type": "test.one", "n": 3})

        self.run(body)

    def test_concurrent_receives_on_many_process_local_channels(self) -> None:
        """Concurrent receives on 20 process-local channels each get their own message."""
        self.require("process_local")

        async def body(layer: Any) -> None:
            names = [await layer.new_channel() for _ in range(20)]
            pending = {name: asyncio.ensure_future(self.receive(layer, name)) for name in names}
            await asyncio.sleep(0.02)
            for index in (7, 3, 19, 0, 12, 5, 18, 1, 9, 14, 2, 17, 6, 11, 4, 16, 8, 13, 10, 15):
                await layer.send(names[index], {"type": "test.local", "for": names[index]})
            for name, task in pending.items():
                got = await task
                assert got == {"type": "test.local", "for": name}, (
                    f"receive({name!r}) got a message meant for {got.get('for')!r}"
                )

        self.run(body)

    def test_process_local_message_survives_a_cancelled_receive(self) -> None:
        """After a cancelled receive, a process-local channel's messages wait for the next."""
        self.require("process_local", "cancel_safe")

        async def body(layer: Any) -> None:
            target, bystander = await layer.new_channel(), await layer.new_channel()
            watching = asyncio.ensure_future(self.receive(layer, bystander))
            cancelled = asyncio.ensure_future(layer.receive(target))
            await asyncio.sleep(0.02)
            cancelled.cancel()
            await asyncio.gather(cancelled, return_exceptions=True)
            # Nobody is receiving on `target` now; its messages must wait for the
            # next receive, while the bystander keeps being served.
            await layer.send(target, {"type": "test.kept", "n": 1})
            await layer.send(bystander, {"type": "test.bystander"})
            await layer.send(target, {"type": "test.kept", "n": 2})
            assert await watching == {"type": "test.bystander"}
            await asyncio.sleep(0.05)
            await self.expect(layer, target, {"type": "test.kept", "n": 1})
            await self.expect(layer, target, {"type": "test.kept", "n": 2})

        self.run(body)
