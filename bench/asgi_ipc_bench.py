"""Benchmark asgi_ipc against asgi_redis (and raw redis-py as a floor), in one run.

    .venv/bin/python bench/asgi_ipc_bench.py [--rounds 2000] [--messages 20000] [--runs 1]

For each layer, with a second *process* on the other end:

* round-trip latency (p50 / p99), ``runworker`` style: this process sends to a
  **normal** channel (a shared work queue, no ``!``), the echo peer (a worker
  process receiving on it) answers on this process's ``new_channel()``;
  ``--runs N`` repeats this comparison N times, the layers taking turns, and
  reports the median of the per-run ratios;
* throughput: this process sends ``--messages`` messages as fast as the layer
  takes them while the peer receives them; messages per second until the
  peer has all of them;
* idle CPU: the peer blocks in ``receive`` on an empty channel for
  ``--idle`` seconds; its CPU time over wall time.

* lock recovery: a peer takes the segment lock and is SIGKILLed while holding
  it; the time from the kill to this process's next completed send.

raw redis-py (LPUSH / BRPOP with the same msgpack payload) is the floor the
Redis layer is built on. Figures are noisy on a shared machine: compare the
ratios, which come from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import psutil

PAYLOAD = {"type": "bench.message", "text": "x" * 40}
REDIS_URL = os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = f"bench{os.getpid()}"


def layer_specs() -> dict[str, tuple[str, dict[str, Any]]]:
    specs = {
        "asgi_ipc": (
            "asgi_ipc.core.IPCChannelLayer",
            {"prefix": PREFIX, "capacity": 100_000, "message_memory": 64 << 20},
        ),
    }
    try:
        importlib.import_module("asgi_redis.core")
    except ImportError:
        print("asgi_redis is not importable: only the raw redis-py floor is measured")
    else:
        specs["asgi_redis"] = (
            "asgi_redis.core.RedisChannelLayer",
            {"hosts": [REDIS_URL], "prefix": PREFIX, "capacity": 100_000},
        )
    return specs


def build(path: str, kwargs: dict[str, Any]) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)(**kwargs)


# The peer process ------------------------------------------------------------------


async def peer(path: str, kwargs: dict[str, Any], mode: str) -> None:
    layer = build(path, kwargs)
    print("ready", flush=True)
    if mode == "echo":
        while True:
            message = await layer.receive("bench.ping")
            if message.get("stop"):
                break
            await layer.send(message["reply"], message)
    elif mode == "sink":
        count = int((await layer.receive("bench.tp"))["count"])
        first = await layer.receive("bench.tp")
        for _ in range(count - 1):
            await layer.receive("bench.tp")
        await layer.send(first["reply"], {"done": True})
    elif mode == "idle":
        await layer.receive("bench.idle")
    await layer.close()


class Peer:
    def __init__(self, path: str, kwargs: dict[str, Any], mode: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--peer", path, json.dumps(kwargs), mode],
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == b"ready"

    def wait(self) -> None:
        self.proc.wait(60)


# Measurements ------------------------------------------------------------------------


async def latency(path: str, kwargs: dict[str, Any], rounds: int) -> tuple[float, float]:
    layer = build(path, kwargs)
    peer_process = Peer(path, kwargs, "echo")
    reply = await layer.new_channel()
    samples = []
    for index in range(rounds + 200):
        started = time.perf_counter()
        await layer.send("bench.ping", {**PAYLOAD, "reply": reply})
        await layer.receive(reply)
        if index >= 200:  # warm-up rounds are not counted
            samples.append(time.perf_counter() - started)
    await layer.send("bench.ping", {"stop": True})
    peer_process.wait()
    await layer.close()
    samples.sort()
    return samples[len(samples) // 2] * 1e6, samples[int(len(samples) * 0.99)] * 1e6


async def throughput(path: str, kwargs: dict[str, Any], messages: int) -> float:
    layer = build(path, kwargs)
    peer_process = Peer(path, kwargs, "sink")
    reply = await layer.new_channel()
    await layer.send("bench.tp", {"count": messages})
    started = time.perf_counter()
    await layer.send("bench.tp", {**PAYLOAD, "reply": reply})
    for _ in range(messages - 1):
        await layer.send("bench.tp", PAYLOAD)
    await layer.receive(reply)
    elapsed = time.perf_counter() - started
    peer_process.wait()
    await layer.flush()
    await layer.close()
    return messages / elapsed


async def idle_cpu(path: str, kwargs: dict[str, Any], seconds: float) -> float:
    layer = build(path, kwargs)
    peer_process = Peer(path, kwargs, "idle")
    process = psutil.Process(peer_process.proc.pid)
    await asyncio.sleep(0.3)  # let the receive block
    before = process.cpu_times()
    await asyncio.sleep(seconds)
    after = process.cpu_times()
    await layer.send("bench.idle", {"wake": True})
    peer_process.wait()
    await layer.close()
    used = (after.user - before.user) + (after.system - before.system)
    return 100 * used / seconds


HOLDER = """
import asyncio, sys, time, json
from asgi_ipc.core import IPCChannelLayer
layer = IPCChannelLayer(**json.loads(sys.argv[1]))
asyncio.run(layer.new_channel())
layer._attached().state.lock.acquire()
print("holding", flush=True)
time.sleep(600)
"""


async def lock_recovery(kwargs: dict[str, Any], rounds: int) -> list[float]:
    """Milliseconds from SIGKILLing a lock holder to the next completed send."""
    import signal

    layer = build("asgi_ipc.core.IPCChannelLayer", kwargs)
    await layer.send("bench.recovery", {})
    samples = []
    for _ in range(rounds):
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, json.dumps(kwargs)], stdout=subprocess.PIPE
        )
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"holding"
        started = time.perf_counter()
        holder.send_signal(signal.SIGKILL)
        await layer.send("bench.recovery", {})
        samples.append((time.perf_counter() - started) * 1000)
        holder.wait()
    await layer.flush()
    await layer.close()
    return sorted(samples)


async def raw_redis(rounds: int, messages: int) -> dict[str, float]:
    """LPUSH/BRPOP round trips and throughput within one process: the floor."""
    import msgpack
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    key = f"{PREFIX}.raw"
    body = msgpack.packb(PAYLOAD)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await client.lpush(key, body)
        msgpack.unpackb((await client.brpop([key], timeout=5))[1])
        samples.append(time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(messages):
        await client.lpush(key, body)
    rate = messages / (time.perf_counter() - started)
    await client.delete(key)
    await client.aclose()
    samples.sort()
    return {
        "p50": samples[len(samples) // 2] * 1e6,
        "p99": samples[int(len(samples) * 0.99)] * 1e6,
        "rate": rate,
    }


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


async def latency_runs(runs: int, rounds: int) -> None:
    """The normal-channel echo round trip, the layers taking turns, *runs* times."""
    specs = layer_specs()
    ratios: dict[str, list[float]] = {"p50": [], "p99": []}
    for run in range(1, runs + 1):
        figures = {
            name: await latency(path, kwargs, rounds) for name, (path, kwargs) in specs.items()
        }
        line = "  ".join(
            f"{name} p50 {p50:7.1f} us p99 {p99:8.1f} us" for name, (p50, p99) in figures.items()
        )
        if "asgi_redis" in figures:
            for index, key in enumerate(ratios):
                ratios[key].append(figures["asgi_ipc"][index] / figures["asgi_redis"][index])
            line += f"  ipc/redis p50 {ratios['p50'][-1]:.2f}x p99 {ratios['p99'][-1]:.2f}x"
        print(f"run {run}: {line}  ({load()})", flush=True)
    if ratios["p50"]:
        p50, p99 = (statistics.median(ratios[key]) for key in ("p50", "p99"))
        print(
            f"normal-channel echo, median of {runs} runs: asgi_ipc / asgi_redis "
            f"p50 {p50:.2f}x  p99 {p99:.2f}x"
        )


async def main(args: argparse.Namespace) -> None:
    print(f"start: {load()}", flush=True)
    if args.runs > 1:
        await latency_runs(args.runs, args.rounds)
        print(f"end: {load()}")
        return
    results: dict[str, dict[str, float]] = {}
    for name, (path, kwargs) in layer_specs().items():
        p50, p99 = await latency(path, kwargs, args.rounds)
        rate = await throughput(path, kwargs, args.messages)
        cpu = await idle_cpu(path, kwargs, args.idle)
        results[name] = {"p50": p50, "p99": p99, "rate": rate, "idle_cpu": cpu}
        print(
            f"{name:11s} round trip p50 {p50:8.1f} us  p99 {p99:8.1f} us  "
            f"throughput {rate:9.0f} msg/s  idle CPU {cpu:.2f} %",
            flush=True,
        )
    recovery = await lock_recovery(layer_specs()["asgi_ipc"][1], 20)
    print(
        f"asgi_ipc lock recovery after SIGKILL of the holder: median {recovery[10]:.2f} ms, "
        f"max {recovery[-1]:.2f} ms over {len(recovery)} kills"
    )
    floor = await raw_redis(args.rounds, args.messages)
    print(
        f"{'raw redis':11s} round trip p50 {floor['p50']:8.1f} us  p99 {floor['p99']:8.1f} us  "
        f"LPUSH rate {floor['rate']:9.0f} msg/s  (one process, no peer: the floor)"
    )
    ipc = results["asgi_ipc"]
    peer_name = "asgi_redis" if "asgi_redis" in results else None
    if peer_name:
        other = results[peer_name]
        print(
            f"asgi_ipc / asgi_redis: normal-channel echo p50 {ipc['p50'] / other['p50']:.2f}x  "
            f"p99 {ipc['p99'] / other['p99']:.2f}x  throughput {ipc['rate'] / other['rate']:.2f}x"
        )
    print(
        f"asgi_ipc / raw redis floor: p50 latency {ipc['p50'] / floor['p50']:.2f}x  "
        f"throughput {ipc['rate'] / floor['rate']:.2f}x"
    )
    print(f"end: {load()}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        asyncio.run(peer(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=1, help="repeat only the echo comparison")
    asyncio.run(main(parser.parse_args()))
