"""Conformance test: receives cancelled at random points lose and reorder nothing.

Under load from concurrent senders, the test starts a receive, lets it run for
a random number of loop iterations or a random short time, and cancels it. A
receive that completed before the cancel landed counts as a delivery. After
``cancel_iterations`` such rounds the channel is drained with plain receives.
Every message sent must then have been received exactly once, and each
sender's messages in the order it sent them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
from typing import Any

from ._harness import Harness

__all__ = ["CancellationTests"]


async def _cancel_at_random_point(receive: asyncio.Task[Any], rng: random.Random) -> None:
    """Wait a random, mostly tiny amount, then cancel *receive*."""
    choice = rng.random()
    if choice < 0.2:
        pass  # cancel before the receive has even started
    elif choice < 0.7:
        for _ in range(rng.randint(1, 6)):
            await asyncio.sleep(0)
    else:
        await asyncio.sleep(rng.uniform(0, 0.003))
    receive.cancel()


class CancellationTests(Harness):
    """Cancellation safety of receive."""

    __test__ = False

    def test_cancelled_receives_lose_and_reorder_nothing(self) -> None:
        """Receives cancelled at random points lose, duplicate and reorder nothing."""
        self.require("cancel_safe")
        seed = int(os.environ.get("ASGI_CONFORMANCE_SEED", random.randrange(2**32)))
        iterations = self.cancel_iterations
        senders = 3
        per_sender = max(50, iterations // 8)
        total = senders * per_sender

        async def body(layer: Any) -> None:
            rng = random.Random(seed)
            channel = self.name("cancel")
            received: list[tuple[int, int]] = []

            async def sender(sender_id: int) -> None:
                sender_rng = random.Random(seed + sender_id + 1)
                for index in range(per_sender):
                    await layer.send(channel, {"type": "test.seq", "s": sender_id, "n": index})
                    for _ in range(sender_rng.randint(0, 8)):
                        await asyncio.sleep(0)

            sending = asyncio.gather(*(sender(s) for s in range(senders)))
            for _ in range(iterations):
                receive = asyncio.ensure_future(layer.receive(channel))
                await _cancel_at_random_point(receive, rng)
                try:
                    message = await receive
                except asyncio.CancelledError:
                    continue
                received.append((message["s"], message["n"]))
            await sending
            while len(received) < total:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), self.receive_timeout)
                except asyncio.TimeoutError:
                    break
                received.append((message["s"], message["n"]))
            self._check_stream(received, senders, per_sender, seed)

        self.run(body, capacity=total + 10, expiry=max(60, self.expiry_seconds))

    def test_a_cancelled_waiting_receiver_does_not_strand_a_message(self) -> None:
        """Cancelling one of two waiting receivers never strands the message sent to them."""
        self.require("cancel_safe")

        async def body(layer: Any) -> None:
            channel = self.name("strand")
            for round_number in range(10):
                first = asyncio.ensure_future(layer.receive(channel))
                second = asyncio.ensure_future(layer.receive(channel))
                await asyncio.sleep(0.02)  # both are waiting now
                await layer.send(channel, {"type": "test.round", "n": round_number})
                victim, survivor = (first, second) if round_number % 2 else (second, first)
                victim.cancel()
                results = await asyncio.gather(victim, return_exceptions=True)
                if not isinstance(results[0], BaseException):
                    survivor.cancel()  # the victim won the race and got the message
                    await asyncio.gather(survivor, return_exceptions=True)
                    assert results[0] == {"type": "test.round", "n": round_number}
                    continue
                try:
                    got = await asyncio.wait_for(survivor, self.receive_timeout)
                except asyncio.TimeoutError:
                    raise AssertionError(
                        f"round {round_number}: after the waiting receiver was cancelled, the "
                        f"other waiting receiver got nothing for {self.receive_timeout} s"
                    ) from None
                assert got == {"type": "test.round", "n": round_number}, got

        self.run(body)

    @staticmethod
    def _check_stream(
        received: list[tuple[int, int]], senders: int, per_sender: int, seed: int
    ) -> None:
        hint = f"(reproduce with ASGI_CONFORMANCE_SEED={seed})"
        duplicates = sorted({item for item in received if received.count(item) > 1})
        assert not duplicates, f"messages received twice after cancellations: {duplicates} {hint}"
        for sender_id in range(senders):
            stream = [n for s, n in received if s == sender_id]
            missing = sorted(set(range(per_sender)) - set(stream))
            assert not missing, (
                f"sender {sender_id}: {len(missing)} messages lost after cancelled receives, "
                f"first ones {missing[:10]} {hint}"
            )
            assert stream == sorted(stream), (
                f"sender {sender_id}: messages reordered after cancelled receives: "
                f"{[(a, b) for a, b in itertools.pairwise(stream) if a > b][:10]} {hint}"
            )
