"""asgi_redis benchmarks against raw redis-py and upstream channels_redis, in the same run.

    .venv/bin/python bench/asgi_redis_bench.py [--url redis://127.0.0.1:6379/0] [--rounds 5]
    .venv/bin/python bench/asgi_redis_bench.py --only loops   # just the fan-out with loops
    .venv/bin/python bench/asgi_redis_bench.py --only loops,round-trips   # the goals' part
    .venv/bin/python bench/asgi_redis_bench.py --only loops --rounds 1 --members 50  # smoke

Results: ``<--output>/asgi_redis_bench.json`` (every figure under ``meta.figures``) and
one chart per workload (bench/_results.py).

Each figure is the median over ``--rounds`` rounds; raw and layer rounds alternate
so that machine noise hits both alike. Ratios are printed at the end.

The headline fan-out (``loops``) is ``group_send`` to 1,000 members, each its own task
awaiting ``receive()`` in a loop as a Channels consumer does, timed until every member
has the message (and each exactly once: the run fails otherwise). Every stack runs the
same code (:func:`fanout_peer`) in a process of its own, and their rounds alternate:

* ``ours`` / ``ours-pubsub`` / ``ours-fernet``: asgi_redis' list layer, its pub/sub layer,
  the list layer with ``symmetric_encryption_keys``;
* ``upstream`` / ``upstream-pubsub`` / ``upstream-fernet``: channels_redis 4.3.0, from PyPI,
  in a venv built once under .cache/bench-upstream-redis (``_upstream_peer.build_venv``;
  ``--no-upstream`` skips them);
* ``floor``: raw redis-py, the least any Redis layer must do: one LPUSH, one BRPOP, then a
  msgpack decode and an ``asyncio.Queue`` put per member.

``round-trips``: send to a worker process, answer on ``new_channel()``, ours against
upstream, each stack in its own interpreter (bench/_redis_round_trips.py).
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
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from _redis_round_trips import round_trips
from _redis_workloads import workloads
from _results import add_output_options, machine, publish
from _upstream_peer import build_venv

if TYPE_CHECKING:
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
        from asgi_redis.core import RedisChannelLayer

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


# The fan-out with a consumer loop per member ------------------------------------------

FERNET_KEY = "bench-key-0123456789"
#: (venv under .cache, pins) of the upstream stacks (see ``_upstream_peer.build_venv``).
UPSTREAM = (
    "bench-upstream-redis",
    "channels_redis[cryptography]==4.3.0 channels==4.3.2 asgiref==3.13.0",
)
#: Stack -> whether it runs in the upstream venv.
LOOP_STACKS = {
    "ours": False,
    "upstream": True,
    "floor": False,
    "ours-pubsub": False,
    "upstream-pubsub": True,
    "ours-fernet": False,
    "upstream-fernet": True,
}


class RawFloor:
    """The least a Redis layer's fan-out can do, on raw redis-py: the sender LPUSHes the
    encoded message once, one reader BRPOPs it and decodes it once per member into each
    member's ``asyncio.Queue``. The same calls as a layer, so the same driver times it."""

    def __init__(self, url: str, prefix: str) -> None:
        self.client = aioredis.Redis.from_url(url)
        self.reader_client = aioredis.Redis.from_url(url)
        self.key = prefix + ":floor"
        self.queues: dict[str, asyncio.Queue[Any]] = {}
        self.reader: asyncio.Task[None] | None = None

    async def new_channel(self) -> str:
        name = f"floor.{len(self.queues)}"
        self.queues[name] = asyncio.Queue()
        return name

    async def group_add(self, group: str, channel: str) -> None:
        if self.reader is None:
            self.reader = asyncio.ensure_future(self._read())

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        import msgpack  # type: ignore[import-untyped]

        await self.client.lpush(self.key, msgpack.packb(message))

    async def receive(self, channel: str) -> Any:
        return await self.queues[channel].get()

    async def _read(self) -> None:
        import msgpack

        while True:
            popped = await self.reader_client.brpop(self.key, 1)
            if popped is not None:
                for queue in self.queues.values():
                    queue.put_nowait(msgpack.unpackb(popped[1]))

    async def flush(self) -> None:
        await self.client.delete(self.key)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        await self.client.aclose()
        await self.reader_client.aclose()


def make_loop_layer(stack: str, url: str, prefix: str) -> Any:
    """The layer under test in a fan-out peer; the upstream stacks import channels_redis."""
    if stack == "floor":
        return RawFloor(url, prefix)
    package = "channels_redis" if stack.startswith("upstream") else "asgi_redis"
    options: dict[str, Any] = {"hosts": [url], "prefix": prefix}
    if stack.endswith("-pubsub"):
        module = __import__(f"{package}.pubsub", fromlist=["RedisPubSubChannelLayer"])
        return module.RedisPubSubChannelLayer(**options)
    if stack.endswith("-fernet"):
        options["symmetric_encryption_keys"] = [FERNET_KEY]
    module = __import__(f"{package}.core", fromlist=["RedisChannelLayer"])
    return module.RedisChannelLayer(**options)


async def fanout_peer(stack: str, url: str, members: int) -> None:
    """Serve ``run K`` lines on stdin: K timed group_sends, answered as a JSON list of ms.

    Every member is a task receiving in a loop; a send is timed from the call until the
    last member has it, and then each member must have had it exactly once.
    """
    layer = make_loop_layer(stack, url, f"bench-l-{secrets.token_hex(4)}")
    group = f"bench-loops-{secrets.token_hex(4)}"
    channels = [await layer.new_channel() for _ in range(members)]
    for channel in channels:
        await layer.group_add(group, channel)
    counts = [0] * members
    state: dict[str, Any] = {"left": members, "done": None}

    async def consume(position: int, channel: str) -> None:
        while True:
            message = await layer.receive(channel)
            if message != MESSAGE:
                raise AssertionError(f"member {position} got {message!r}")
            counts[position] += 1
            state["left"] -= 1
            if state["left"] == 0:
                state["done"].set_result(None)

    loop = asyncio.get_running_loop()
    consumers = [asyncio.ensure_future(consume(i, c)) for i, c in enumerate(channels)]
    await asyncio.sleep(0.2)  # every consumer is waiting, every reader armed
    print("ready", flush=True)
    while True:
        command = (await loop.run_in_executor(None, sys.stdin.readline)).split()
        if not command or command[0] != "run":
            break
        samples: list[float] = []
        for _ in range(int(command[1])):
            counts[:] = [0] * members
            state["left"], state["done"] = members, loop.create_future()
            start = time.perf_counter()
            await layer.group_send(group, MESSAGE)
            await asyncio.wait_for(state["done"], 30)
            samples.append((time.perf_counter() - start) * 1000)
            if counts != [1] * members:
                raise AssertionError(f"{stack}: a member did not get exactly one message")
            await asyncio.sleep(0.02)  # consumers back in receive(), as between chat lines
        print(json.dumps(samples), flush=True)
    for consumer in consumers:
        consumer.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)
    await layer.flush()
    # channels_redis' list layer has only close_pools(), its pub/sub layer neither.
    for name in ("close", "close_pools"):
        closer = getattr(type(layer), name, None)
        if closer is not None:
            await closer(layer)
            break


def start_peer(stack: str, python: str, url: str, members: int) -> subprocess.Popen[str]:
    argv = [python, __file__, "--fanout-peer", stack, "--url", url, "--members", str(members)]
    env = dict(os.environ)
    if LOOP_STACKS[stack]:  # upstream imports its venv's packages only, never our sources
        env.pop("PYTHONPATH", None)
    peer = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert peer.stdout is not None and peer.stdout.readline().strip() == "ready", stack
    return peer


def fanout_loops(url: str, rounds: int, members: int, upstream: bool) -> dict[str, float]:
    """Median and p90 ms per stack; stacks alternate, 10 sends per stack per round."""
    stacks = [s for s, needs_venv in LOOP_STACKS.items() if upstream or not needs_venv]
    venv = build_venv(*UPSTREAM) if upstream else sys.executable
    peers = {
        s: start_peer(s, venv if LOOP_STACKS[s] else sys.executable, url, members) for s in stacks
    }
    samples: dict[str, list[float]] = {stack: [] for stack in stacks}
    failed: list[str] = []
    try:
        for _ in range(rounds):
            for stack, peer in peers.items():
                if stack in failed:
                    continue
                assert peer.stdin is not None and peer.stdout is not None
                peer.stdin.write("run 10\n")
                peer.stdin.flush()
                answer = peer.stdout.readline()
                if answer:
                    samples[stack] += json.loads(answer)
                elif LOOP_STACKS[stack]:
                    # channels_redis losing its consumers under load is a result too, not
                    # a reason to lose the other stacks' figures.
                    print(f"# the {stack} peer failed (see its traceback)", file=sys.stderr)
                    failed.append(stack)
                else:
                    raise RuntimeError(f"the {stack} fan-out peer failed")
    finally:
        for peer in peers.values():
            assert peer.stdin is not None
            if peer.poll() is None:
                peer.stdin.write("stop\n")
                peer.stdin.flush()
                peer.wait(60)
    results: dict[str, float] = {}
    for stack, values in samples.items():
        if stack in failed:
            results[f"loops_{members}_{stack}_failed"] = 1.0
        elif values:
            results[f"loops_{members}_{stack}_p50_ms"] = statistics.median(values)
            results[f"loops_{members}_{stack}_p90_ms"] = percentile(values, 0.9)
    return results


def loop_ratios(results: dict[str, float], members: int) -> dict[str, float]:
    """Upstream over ours (how many times faster) and ours over the floor, at p50."""
    ratios: dict[str, float] = {}
    for variant in ("", "-pubsub", "-fernet"):
        ours = results.get(f"loops_{members}_ours{variant}_p50_ms")
        theirs = results.get(f"loops_{members}_upstream{variant}_p50_ms")
        if ours and theirs:
            ratios[f"ratio_loops_upstream{variant}_over_ours"] = theirs / ours
    ours, floor = (
        results.get(f"loops_{members}_ours_p50_ms"),
        results.get(f"loops_{members}_floor_p50_ms"),
    )
    if ours and floor:
        ratios["ratio_loops_ours_over_floor"] = ours / floor
    return ratios


def progress(stage: str) -> None:
    print(f"# {stage} done", file=sys.stderr, flush=True)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def median_of(rounds: int, measure: Callable[[], Awaitable[float]]) -> float:
    return statistics.median([await measure() for _ in range(rounds)])


async def main(url: str, rounds: int) -> dict[str, float]:
    from asgi_redis.core import RedisChannelLayer

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


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--url", default=os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--members", type=int, default=1000, help="for the loops fan-out")
    parser.add_argument("--only", default="all", help="all, or of: loops,round-trips")
    parser.add_argument("--no-upstream", action="store_true", help="skip channels_redis")
    parser.add_argument("--fanout-peer", help=argparse.SUPPRESS)  # internal: one stack
    add_output_options(parser)
    arguments = parser.parse_args(argv)
    if arguments.fanout_peer:
        asyncio.run(fanout_peer(arguments.fanout_peer, arguments.url, arguments.members))
        return
    before = machine()
    figures: dict[str, float] = {}
    parts = set(arguments.only.split(","))
    if "all" in parts:
        figures.update(asyncio.run(main(arguments.url, arguments.rounds)))
        parts |= {"loops", "round-trips"}
    upstream = None if arguments.no_upstream else build_venv(*UPSTREAM)
    if "round-trips" in parts:
        figures.update(round_trips(arguments.url, arguments.rounds, 500, sys.executable, upstream))
        progress("round trips against upstream")
    if "loops" in parts:
        loops = fanout_loops(arguments.url, arguments.rounds, arguments.members, bool(upstream))
        progress("fan-out with consumer loops")
        figures.update(loops)
        figures.update(loop_ratios(loops, arguments.members))
    with open("/proc/loadavg") as loadavg:
        figures["load_average_1min"] = float(loadavg.read().split()[0])
    for name, value in figures.items():
        print(f"{name:40s} {value:10.3f}")
    print(json.dumps(figures))
    charts = workloads(figures, arguments.members)
    publish("asgi_redis_bench", charts, before, arguments, figures=figures, only=arguments.only)


if __name__ == "__main__":
    cli()
