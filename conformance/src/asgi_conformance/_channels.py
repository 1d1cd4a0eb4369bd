"""Conformance tests for point-to-point channels: delivery, order, fidelity, size."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.layers import MessageTooLarge

from ._harness import Harness

__all__ = ["ChannelTests"]

#: Values every layer must carry unchanged (msgpack and JSON-with-bytes both can).
FIDELITY_MESSAGE: dict[str, Any] = {
    "type": "conformance.fidelity",
    "text": "plain ascii",
    "unicode": "héllo wörld ✓ 你好 🎉",
    "empty": "",
    "bytes": bytes(range(256)),
    "empty_bytes": b"",
    "int": 42,
    "negative": -7,
    "big": 2**62,
    "zero": 0,
    "float": 3.25,
    "small_float": -1.5e-300,
    "true": True,
    "false": False,
    "none": None,
    "list": [1, "two", b"three", None, [4.5, {"five": 5}]],
    "empty_list": [],
    "dict": {"nested": {"deeper": ["x", {"y": b"z"}]}, "n": 1},
    "empty_dict": {},
}


class ChannelTests(Harness):
    """Send/receive, FIFO, single reader, fidelity, large messages."""

    __test__ = False

    def test_send_then_receive(self) -> None:
        """A message sent on a channel is received from it, unchanged."""

        async def body(layer: Any) -> None:
            channel = self.name("basic")
            await layer.send(channel, {"type": "test.message", "text": "hello"})
            await self.expect(layer, channel, {"type": "test.message", "text": "hello"})

        self.run(body)

    def test_receive_waits_for_a_later_send(self) -> None:
        """receive() on an empty channel waits, and gets a message sent later."""

        async def body(layer: Any) -> None:
            channel = self.name("wait")
            pending = asyncio.ensure_future(self.receive(layer, channel))
            await asyncio.sleep(0.05)
            assert not pending.done(), f"receive returned {pending} before anything was sent"
            await layer.send(channel, {"type": "test.late"})
            assert await pending == {"type": "test.late"}

        self.run(body)

    def test_message_round_trip_fidelity(self) -> None:
        """Every value type a message may hold arrives equal, same type, no key added."""

        async def body(layer: Any) -> None:
            channel = self.name("fidelity")
            await layer.send(channel, FIDELITY_MESSAGE)
            got = await self.receive(layer, channel)
            for key, value in FIDELITY_MESSAGE.items():
                assert key in got, f"key {key!r} was lost in transit"
                assert got[key] == value, f"{key!r}: sent {value!r}, received {got[key]!r}"
                assert type(got[key]) is type(value), (
                    f"{key!r}: sent a {type(value).__name__}, received a {type(got[key]).__name__}"
                )
            assert set(got) == set(FIDELITY_MESSAGE), (
                f"extra keys {set(got) - set(FIDELITY_MESSAGE)}"
            )

        self.run(body)

    def test_sender_mutation_after_send_changes_nothing(self) -> None:
        """Changing a message after send() does not change what is received."""

        async def body(layer: Any) -> None:
            channel = self.name("mutate")
            message: dict[str, Any] = {"type": "test.m", "items": [1, 2], "map": {"a": 1}}
            await layer.send(channel, message)
            message["items"].append(3)
            message["map"]["b"] = 2
            message["type"] = "changed"
            await self.expect(layer, channel, {"type": "test.m", "items": [1, 2], "map": {"a": 1}})

        self.run(body)

    def test_channels_are_isolated(self) -> None:
        """A message goes only to its own channel; channels are read in any order."""

        async def body(layer: Any) -> None:
            first, second = self.name("iso-a"), self.name("iso-b")
            await layer.send(first, {"type": "test.to-first"})
            await layer.send(second, {"type": "test.to-second"})
            await self.expect(layer, second, {"type": "test.to-second"})
            await self.expect(layer, first, {"type": "test.to-first"})

        self.run(body)

    def test_fifo_single_sender(self) -> None:
        """One sender's messages on one channel are received in the order sent."""

        async def body(layer: Any) -> None:
            channel = self.name("fifo")
            for index in range(50):
                await layer.send(channel, {"type": "test.seq", "n": index})
            got = [(await self.receive(layer, channel))["n"] for _ in range(50)]
            assert got == list(range(50)), f"messages were reordered: {got}"

        self.run(body, capacity=100)

    def test_fifo_per_sender_under_concurrent_senders(self) -> None:
        """With concurrent senders, each sender's messages arrive complete and in its order."""
        senders, per_sender = 4, 40

        async def body(layer: Any) -> None:
            channel = self.name("fifo-many")

            async def sender(sender_id: int) -> None:
                for index in range(per_sender):
                    await layer.send(channel, {"type": "test.seq", "s": sender_id, "n": index})
                    await asyncio.sleep(0)

            await asyncio.gather(*(sender(s) for s in range(senders)))
            streams: dict[int, list[int]] = {s: [] for s in range(senders)}
            for _ in range(senders * per_sender):
                message = await self.receive(layer, channel)
                streams[message["s"]].append(message["n"])
            for sender_id, stream in streams.items():
                assert stream == list(range(per_sender)), (
                    f"sender {sender_id}'s messages arrived out of order or incomplete: {stream}"
                )

        self.run(body, capacity=senders * per_sender + 10)

    def test_single_reader_among_concurrent_receivers(self) -> None:
        """With many concurrent receivers, each message reaches exactly one of them."""
        receivers, total = 8, 120

        async def body(layer: Any) -> None:
            channel = self.name("readers")
            got: list[int] = []
            all_received = asyncio.Event()

            async def reader() -> None:
                while True:
                    message = await layer.receive(channel)
                    got.append(message["n"])
                    if len(got) >= total:
                        all_received.set()

            tasks = [asyncio.ensure_future(reader()) for _ in range(receivers)]
            await asyncio.sleep(0.01)
            for index in range(total):
                await layer.send(channel, {"type": "test.seq", "n": index})
                if index % 10 == 0:
                    await asyncio.sleep(0)
            try:
                await asyncio.wait_for(all_received.wait(), self.receive_timeout)
            except asyncio.TimeoutError:
                pass  # reported below as missing messages
            # Give a duplicate delivery a chance to show up before looking.
            await asyncio.sleep(0.05)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            duplicates = sorted({n for n in got if got.count(n) > 1})
            assert not duplicates, f"messages delivered to more than one reader: {duplicates}"
            missing = sorted(set(range(total)) - set(got))
            assert not missing, f"messages never received: {missing}"

        self.run(body, capacity=total + 10)

    def test_large_message_is_accepted(self) -> None:
        """A message of just under 1 MiB arrives whole (claim ``large_messages``)."""
        self.require("large_messages")

        async def body(layer: Any) -> None:
            channel = self.name("large")
            payload = bytes(range(256)) * (1024 * 4 - 16)  # just under 1 MiB
            text = "ü✓" * 40_000
            await layer.send(channel, {"type": "test.large", "payload": payload, "text": text})
            got = await self.receive(layer, channel)
            assert got["payload"] == payload, "the 1 MiB payload was truncated or altered"
            assert got["text"] == text

        self.run(body)

    def test_oversized_message_is_delivered_whole_or_refused(self) -> None:
        """A 4 MiB message is delivered whole or refused with MessageTooLarge, never cut."""
        self.require("large_messages")

        async def body(layer: Any) -> None:
            channel = self.name("oversized")
            payload = b"\x01\x02" * (2 * 1024 * 1024)  # 4 MiB
            try:
                await layer.send(channel, {"type": "test.huge", "payload": payload})
            except MessageTooLarge:
                # Refused at send time is allowed; the layer must keep serving.
                await layer.send(channel, {"type": "test.after-refusal"})
                await self.expect(layer, channel, {"type": "test.after-refusal"})
                return
            got = await self.receive(layer, channel)
            assert got["payload"] == payload, (
                f"a 4 MiB message was accepted but arrived with {len(got['payload'])} bytes; "
                "a layer must deliver it whole or raise MessageTooLarge"
            )

        self.run(body)
