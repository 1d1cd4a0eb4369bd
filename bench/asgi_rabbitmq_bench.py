"""Benchmark asgi_rabbitmq against raw aio-pika (the floor), measured in the same run.

    .venv/bin/python bench/asgi_rabbitmq_bench.py [--url amqp://...] [--rounds 1000] [--repeats 3]

Measures, each for the layer and for raw aio-pika doing the same broker work:

* sequential send+receive round trips per second (publisher confirms on both);
* group_send fan-out: time until every member of a 1 / 100 / 1,000-member
  group has received the message (median of several sends);
* cross-process round-trip latency (p50 / p99) against an echo peer process.

Figures are noisy on a shared machine; compare the ratios (interleaved runs, medians), and
prefer the CPU-per-round-trip rows when other processes load the machine.

    .venv/bin/python bench/asgi_rabbitmq_bench.py --rounds 100 --repeats 1  # smoke

Results: ``<--output>/asgi_rabbitmq_bench.json`` and one chart per row (bench/_results.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aio_pika
from _results import Series, Workload, add_output_options, machine, publish
from asgi_rabbitmq.core import RabbitmqChannelLayer

DEFAULT_URL = os.environ.get("ASGI_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PAYLOAD = {"type": "bench.message", "text": "x" * 40}
BODY = b"x" * 60
#: Names unique to this run (the peer process inherits it through the environment).
PREFIX = os.environ.setdefault("ASGI_RABBITMQ_BENCH_PREFIX", f"bench{os.getpid()}")


# Raw aio-pika: the floor -----------------------------------------------------------


class RawPair:
    """A publisher connection (confirms on) and a consumer connection, as the layer uses."""

    async def open(self, url: str, prefetch: int = 10) -> None:
        self.pub_conn = await aio_pika.connect(url)
        self.sub_conn = await aio_pika.connect(url)
        self.pub = await self.pub_conn.channel(publisher_confirms=True)
        self.sub = await self.sub_conn.channel()
        await self.sub.set_qos(prefetch_count=prefetch)

    async def queue(self, on_body: Callable[[bytes], None]) -> str:
        queue = await self.sub.declare_queue(exclusive=True)

        async def consume(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            on_body(message.body)
            await message.ack()

        await queue.consume(consume)
        name: str = queue.name
        return name

    async def close(self) -> None:
        await self.pub_conn.close()
        await self.sub_conn.close()


async def raw_round_trips(url: str, rounds: int, prefetch: int = 10) -> tuple[float, float]:
    pair = RawPair()
    await pair.open(url, prefetch)
    inbox: asyncio.Queue[bytes] = asyncio.Queue()
    name = await pair.queue(inbox.put_nowait)
    exchange = pair.pub.default_exchange
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        await exchange.publish(aio_pika.Message(BODY), name)
        await inbox.get()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    await pair.close()
    # Both ends run in this process: CPU time per round trip is the cost of
    # the client side, and it is far less disturbed by other load than wall time.
    return rounds / elapsed, cpu / rounds * 1e6


async def raw_fan_out(url: str, members: int, repeats: int) -> float:
    """One publish to a direct exchange with *members* bound queues, one consumer each."""
    pair = RawPair()
    await pair.open(url)
    exchange = await pair.pub.declare_exchange(f"bench.raw.{os.getpid()}", auto_delete=True)
    remaining = [0]
    done = asyncio.Event()

    def on_body(_: bytes) -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            done.set()

    for _ in range(members):
        name = await pair.queue(on_body)
        queue = await pair.sub.get_queue(name, ensure=False)
        await queue.bind(exchange.name, routing_key="room")
    samples = []
    for _ in range(repeats):
        remaining[0] = members
        done.clear()
        await asyncio.sleep(0.05)  # the same idle gap as the layer's run
        start = time.perf_counter()
        await exchange.publish(aio_pika.Message(BODY), "room")
        await done.wait()
        samples.append(time.perf_counter() - start)
    await pair.close()
    return statistics.median(samples)


# The layer ---------------------------------------------------------------------------


async def layer_round_trips(url: str, rounds: int, kind: str) -> tuple[float, float]:
    sender = RabbitmqChannelLayer(url, prefix=PREFIX)
    receiver = sender if kind == "same-layer" else RabbitmqChannelLayer(url, prefix=PREFIX)
    channel = "bench.normal" if kind == "normal" else await receiver.new_channel()
    await sender.send(channel, PAYLOAD)
    await receiver.receive(channel)  # connect and start consumers before timing
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        await sender.send(channel, PAYLOAD)
        await receiver.receive(channel)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    await receiver.close()
    await sender.flush()
    await sender.close()
    # Both ends run in this process: CPU time per round trip is the cost of
    # the client side, and it is far less disturbed by other load than wall time.
    return rounds / elapsed, cpu / rounds * 1e6


async def layer_fan_out(url: str, members: int, repeats: int) -> float:
    sender = RabbitmqChannelLayer(url, prefix=PREFIX)
    receiver = RabbitmqChannelLayer(url, prefix=PREFIX, local_capacity=10)
    group = f"bench-room-{members}"
    channels = [await receiver.new_channel() for _ in range(members)]
    await asyncio.gather(*(receiver.group_add(group, channel) for channel in channels))
    samples = []
    remaining = [0]
    done = asyncio.Event()

    async def member(channel: str) -> None:
        await receiver.receive(channel)
        remaining[0] -= 1
        if remaining[0] == 0:
            done.set()

    for _ in range(repeats + 1):
        remaining[0] = members
        done.clear()
        tasks = [asyncio.ensure_future(member(channel)) for channel in channels]
        await asyncio.sleep(0.05)  # every member is waiting in receive()
        start = time.perf_counter()
        await sender.group_send(group, PAYLOAD)
        await done.wait()
        samples.append(time.perf_counter() - start)
        await asyncio.gather(*tasks)
    await sender.flush()
    await sender.close()
    await receiver.close()
    return statistics.median(samples[1:])  # the first send warms the consumer up


# Cross-process -----------------------------------------------------------------------


async def peer(url: str, mode: str) -> None:
    """Echo peer: print where to send, then answer every ping to its reply address."""
    if mode == "layer":
        layer = RabbitmqChannelLayer(url, prefix=PREFIX)
        inbox = await layer.new_channel()
        print(json.dumps({"inbox": inbox}), flush=True)
        while True:
            message = await layer.receive(inbox)
            if message["type"] == "stop":
                break
            await layer.send(message["reply"], {"type": "pong"})
        await layer.close()
        return
    pair = RawPair()
    await pair.open(url)
    requests: asyncio.Queue[bytes] = asyncio.Queue()
    name = await pair.queue(requests.put_nowait)
    print(json.dumps({"inbox": name}), flush=True)
    while (body := await requests.get()) != b"stop":
        await pair.pub.default_exchange.publish(aio_pika.Message(b"pong"), body.decode())
    await pair.close()


async def cross_process(url: str, mode: str, rounds: int) -> tuple[float, float]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--url", url, "--peer", mode, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    inbox = json.loads(await process.stdout.readline())["inbox"]
    samples: list[float] = []
    if mode == "layer":
        layer = RabbitmqChannelLayer(url, prefix=PREFIX)
        reply = await layer.new_channel()
        for _ in range(rounds + 20):
            start = time.perf_counter()
            await layer.send(inbox, {"type": "ping", "reply": reply})
            await layer.receive(reply)
            samples.append(time.perf_counter() - start)
        await layer.send(inbox, {"type": "stop"})
        await layer.close()
    else:
        pair = RawPair()
        await pair.open(url)
        replies: asyncio.Queue[bytes] = asyncio.Queue()
        reply = await pair.queue(replies.put_nowait)
        for _ in range(rounds + 20):
            start = time.perf_counter()
            await pair.pub.default_exchange.publish(aio_pika.Message(reply.encode()), inbox)
            await replies.get()
            samples.append(time.perf_counter() - start)
        await pair.pub.default_exchange.publish(aio_pika.Message(b"stop"), inbox)
        await pair.close()
    await process.wait()
    samples = sorted(samples[20:])
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)]


# Report ------------------------------------------------------------------------------


async def run(url: str, rounds: int, repeats: int) -> list[Workload]:
    """Measure, print the table, and return one chart per row (layer against the raw floor)."""
    charts: list[Workload] = []

    def row(name: str, layer: float, floor: float, unit: str, higher_is_better: bool) -> None:
        ratio = layer / floor if higher_is_better else floor / layer
        print(f"{name:<40} {layer:>10.2f} {floor:>10.2f} {unit:<5} x{ratio:.2f}", flush=True)
        charts.append(
            Workload(
                name=name.strip(),
                unit=unit,
                lower_is_better=not higher_is_better,
                metrics=[unit],
                series=[
                    Series("asgi_rabbitmq", "ours", {unit: layer}),
                    Series("raw aio-pika floor", "peer", {unit: floor}),
                ],
            )
        )

    async def alternate(
        layer: Callable[[], Awaitable[Any]], raw: Callable[[], Awaitable[Any]]
    ) -> tuple[list[Any], list[Any]]:
        # Interleaved, so that load from other processes hits both sides alike.
        results: tuple[list[Any], list[Any]] = ([], [])
        for _ in range(repeats):
            results[0].append(await layer())
            results[1].append(await raw())
        return results

    print(f"{'measure':<40} {'layer':>10} {'raw floor':>10} {'unit':<5} ratio (>1: layer better)")
    median = statistics.median
    for kind in ("cross-layer", "normal", "same-layer"):
        ours, raw = await alternate(
            partial(layer_round_trips, url, rounds, kind),
            # A worker holds one unacknowledged message per normal channel.
            partial(raw_round_trips, url, rounds, 1 if kind == "normal" else 10),
        )
        row(
            f"round trips/s, {kind}",
            median(r[0] for r in ours),
            median(r[0] for r in raw),
            "rt/s",
            True,
        )
        row(
            f"  CPU per round trip, {kind}",
            median(r[1] for r in ours),
            median(r[1] for r in raw),
            "us",
            False,
        )
    for members in (1, 100, 1000):
        samples = 10 if members < 1000 else 5
        ours, raw = await alternate(
            partial(layer_fan_out, url, members, samples),
            partial(raw_fan_out, url, members, samples),
        )
        row(
            f"group_send, all {members} reached", median(ours) * 1e3, median(raw) * 1e3, "ms", False
        )
    ours, raw = await alternate(
        partial(cross_process, url, "layer", rounds // 2),
        partial(cross_process, url, "raw", rounds // 2),
    )
    for index, name in enumerate(("p50", "p99")):
        row(
            f"cross-process round trip {name}",
            median(r[index] for r in ours) * 1e3,
            median(r[index] for r in raw) * 1e3,
            "ms",
            False,
        )
    return charts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per measure")
    parser.add_argument("--peer", choices=["layer", "raw"], help=argparse.SUPPRESS)
    add_output_options(parser)
    args = parser.parse_args()
    if args.peer:
        asyncio.run(peer(args.url, args.peer))
        return
    before = machine()
    charts = asyncio.run(run(args.url, args.rounds, args.repeats))
    publish("asgi_rabbitmq_bench", charts, before, args, rounds=args.rounds, repeats=args.repeats)


if __name__ == "__main__":
    main()
