"""Round trips across processes on the Redis layer: ours against upstream channels_redis.

Used by bench/asgi_redis_bench.py (``--only round-trips``, and in ``--only all``). Each
stack runs two processes of its own interpreter (ours: this one with asgi_redis; upstream:
the channels_redis venv of ``asgi_redis_bench.UPSTREAM``): a worker receiving on a normal
channel and answering on the sender's ``new_channel()``, and a client timing each send until
the answer. The stacks' rounds alternate so that machine noise hits both alike; the first
50 samples of every round are dropped (connections and caches warming up).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess

__all__ = ["round_trips"]

#: Run as ``python -c SCRIPT worker|client PACKAGE URL PREFIX COUNT``.
SCRIPT = r"""
import asyncio, importlib, json, sys, time

async def main(role, package, url, prefix, count):
    layer = importlib.import_module(package + ".core").RedisChannelLayer(hosts=[url], prefix=prefix)
    if role == "worker":
        while True:
            message = await layer.receive("bench.rt")
            if message.get("stop"):
                break
            await layer.send(message["reply"], {"type": "pong"})
    else:
        reply = await layer.new_channel()
        samples = []
        for _ in range(int(count)):
            start = time.perf_counter()
            await layer.send("bench.rt", {"type": "ping", "reply": reply})
            await layer.receive(reply)
            samples.append((time.perf_counter() - start) * 1000)
        await layer.send("bench.rt", {"type": "ping", "stop": True})
        print(json.dumps(samples))
    await layer.flush()

asyncio.run(main(*sys.argv[1:]))
"""


def one_round(python: str, package: str, url: str, count: int) -> list[float]:
    """Start a worker and a client on a fresh prefix; return the client's samples (ms)."""
    prefix = f"bench-rt-{secrets.token_hex(4)}"
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # each side imports its interpreter's packages only
    args = [package, url, prefix, str(count)]
    worker = subprocess.Popen([python, "-c", SCRIPT, "worker", *args], env=env)
    try:
        client = subprocess.run(
            [python, "-c", SCRIPT, "client", *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    samples: list[float] = json.loads(client.stdout)
    return samples[50:]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def round_trips(
    url: str, rounds: int, count: int, ours: str, upstream: str | None
) -> dict[str, float]:
    """p50 / p99 ms of each stack (``rt_ours_p50_ms`` ...) and ``ratio_rt_upstream_over_ours``.

    *ours* and *upstream* are interpreters; without *upstream* only ours is measured.
    """
    stacks = {"ours": (ours, "asgi_redis")}
    if upstream is not None:
        stacks["upstream"] = (upstream, "channels_redis")
    samples: dict[str, list[float]] = {name: [] for name in stacks}
    for _ in range(rounds):
        for name, (python, package) in stacks.items():
            samples[name] += one_round(python, package, url, count + 50)
    figures: dict[str, float] = {}
    for name, values in samples.items():
        figures[f"rt_{name}_p50_ms"] = statistics.median(values)
        figures[f"rt_{name}_p99_ms"] = percentile(values, 0.99)
    if upstream is not None:
        figures["ratio_rt_upstream_over_ours"] = (
            figures["rt_upstream_p50_ms"] / figures["rt_ours_p50_ms"]
        )
    return figures
