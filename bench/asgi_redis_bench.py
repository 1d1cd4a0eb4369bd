"""asgi_redis benchmarks against raw redis-py on the same server, in the same run.

    .venv/bin/python bench/asgi_redis_bench.py [--url redis://127.0.0.1:6379/0] [--rounds 5]

Each figure is the median over ``--rounds`` rounds; raw and layer rounds alternate
so that machine noise hits both alike. Ratios are printed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from asgi_redis.core import RedisChannelLayer

MESSAGE = {"type": "bench.message", "text": "x" * 32}


async def raw_sequential(url: str, count: int) -> float:
    client = aioredis.Redis.from_url(url)
    key = f"bench-raw-{secrets.token_hex(4)}"
    start = time.perf_counter()
    for _ in range(count):
        await client.lpush(key, b"x" * 48)
        await client.brpop(key, 1)
    elapsed = time.perf_counter() - start
    await client.aclose()
    return count / elapsed


async def raw_pipeline(url: str, count: int) -> float:
    client = aioredis.Redis.from_url(url)
    key = f"bench-rawp-{secrets.token_hex(4)}"
    start = time.perf_counter()
    for _ in range(count // 100):
        pipe = client.pipeline(transaction=False)
        for _ in range(100):
            pipe.lpush(key, b"x" * 48)
        await pipe.execute()
        pipe = client.pipeline(transaction=False)
        for _ in range(100):
            pipe.rpop(key)
        await pipe.execute()
    elapsed = time.perf_counter() - start
    await client.aclose()
    return count / elapsed


async def layer_sequential(layer: RedisChannelLayer, count: int) -> float:
    channel = f"bench.seq.{secrets.token_hex(4)}"
    start = time.perf_counter()
    for _ in range(count):
        await layer.send(channel, MESSAGE)
        await layer.receive(channel)
    return count / (time.perf_counter() - start)


async def layer_producers(layer: RedisChannelLayer, producers: int, count: int) -> float:
    channel = f"bench.prod.{secrets.token_hex(4)}"
    per = count // producers

    async def produce() -> None:
        for _ in range(per):
            await layer.send(channel, MESSAGE)

    async def consume() -> None:
        for _ in range(per * producers):
            await layer.receive(channel)

    start = time.perf_counter()
    await asyncio.gather(consume(), *(produce() for _ in range(producers)))
    return per * producers / (time.perf_counter() - start)


async def layer_fanout(layer: RedisChannelLayer, members: int) -> float:
    group = f"bench-group-{secrets.token_hex(4)}"
    channels = [await layer.new_channel() for _ in range(members)]
    for channel in channels:
        await layer.group_add(group, channel)
    receivers = [asyncio.ensure_future(layer.receive(channel)) for channel in channels]
    await asyncio.sleep(0.05)  # every receiver is waiting
    start = time.perf_counter()
    await layer.group_send(group, MESSAGE)
    await asyncio.gather(*receivers)
    elapsed = time.perf_counter() - start
    for channel in channels:
        await layer.group_discard(group, channel)
    return elapsed * 1000


PEER = r"""
import asyncio, json, sys
async def main(mode, url, prefix):
    if mode == "raw":
        import redis.asyncio as aioredis
        client = aioredis.Redis.from_url(url)
        print("ready", flush=True)
        while True:
            _, item = await client.brpop(prefix + ":ping")
            if item == b"stop":
                break
            await client.lpush(prefix + ":pong", item)
        await client.aclose()
    else:
        from asgi_redis.core import RedisChannelLayer
        layer = RedisChannelLayer(hosts=[url], prefix=prefix)
        print("ready", flush=True)
        while True:
            message = await layer.receive("bench.ping")
            if message.get("stop"):
                break
            await layer.send(message["reply"], {"type": "pong"})
        await layer.close()
asyncio.run(main(*sys.argv[1:]))
"""


async def cross_process(url: str, mode: str, count: int) -> list[float]:
    prefix = f"bench-x-{secrets.token_hex(4)}"
    peer = subprocess.Popen(
        [sys.executable, "-c", PEER, mode, url, prefix], stdout=subprocess.PIPE, text=True
    )
    assert peer.stdout is not None and peer.stdout.readline().strip() == "ready"
    samples: list[float] = []
    if mode == "raw":
        client = aioredis.Redis.from_url(url)
        for _ in range(count):
            start = time.perf_counter()
            await client.lpush(prefix + ":ping", b"x" * 48)
            await client.brpop(prefix + ":pong", 5)
            samples.append((time.perf_counter() - start) * 1000)
        await client.lpush(prefix + ":ping", b"stop")
        await client.aclose()
    else:
        layer = RedisChannelLayer(hosts=[url], prefix=prefix)
        reply = await layer.new_channel()
        for _ in range(count):
            start = time.perf_counter()
            await layer.send("bench.ping", {"type": "ping", "reply": reply})
            await layer.receive(reply)
            samples.append((time.perf_counter() - start) * 1000)
        await layer.send("bench.ping", {"type": "ping", "stop": True})
        await layer.flush()
        await layer.close()
    peer.wait(30)
    return samples


def progress(stage: str) -> None:
    print(f"# {stage} done", file=sys.stderr, flush=True)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def median_of(rounds: int, measure: Callable[[], Awaitable[float]]) -> float:
    return statistics.median([await measure() for _ in range(rounds)])


async def main(url: str, rounds: int) -> dict[str, float]:
    layer = RedisChannelLayer(hosts=[url], prefix=f"bench-{secrets.token_hex(4)}", capacity=10000)
    results: dict[str, float] = {}
    raw_seq: list[float] = []
    layer_seq: list[float] = []
    for _ in range(rounds):  # alternate so both see the same machine noise
        raw_seq.append(await raw_sequential(url, 1000))
        layer_seq.append(await layer_sequential(layer, 1000))
    progress("sequential")
    results["raw_sequential_per_s"] = statistics.median(raw_seq)
    results["layer_sequential_per_s"] = statistics.median(layer_seq)
    results["raw_pipeline_per_s"] = await median_of(rounds, lambda: raw_pipeline(url, 5000))
    progress("pipeline")
    for producers in (1, 10, 100):
        results[f"layer_producers_{producers}_per_s"] = await median_of(
            rounds,
            lambda p=producers: layer_producers(layer, p, 3000),  # type: ignore[misc]
        )
    progress("producers")
    for members in (1, 100, 1000):
        results[f"layer_fanout_{members}_ms"] = await median_of(
            rounds,
            lambda m=members: layer_fanout(layer, m),  # type: ignore[misc]
        )
    progress("fan-out")
    raw_lat: list[float] = []
    layer_lat: list[float] = []
    for _ in range(rounds):  # alternate, dropping each peer's warm-up samples
        raw_lat += (await cross_process(url, "raw", 550))[50:]
        layer_lat += (await cross_process(url, "layer", 550))[50:]
    results["raw_cross_p50_ms"] = percentile(raw_lat, 0.5)
    results["raw_cross_p99_ms"] = percentile(raw_lat, 0.99)
    results["layer_cross_p50_ms"] = percentile(layer_lat, 0.5)
    results["layer_cross_p99_ms"] = percentile(layer_lat, 0.99)
    await layer.flush()
    await layer.close()
    results["ratio_sequential"] = (
        results["layer_sequential_per_s"] / results["raw_sequential_per_s"]
    )
    results["ratio_cross_p50"] = results["layer_cross_p50_ms"] / results["raw_cross_p50_ms"]
    results["ratio_producers_100_vs_raw_pipeline"] = (
        results["layer_producers_100_per_s"] / results["raw_pipeline_per_s"]
    )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--url", default=os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments.url, arguments.rounds))
    for name, value in figures.items():
        print(f"{name:40s} {value:10.3f}")
    print(json.dumps(figures))
