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
from pathlib import Path
from typing import Any

from _results import RESULTS_DIR, Series, Workload, machine, render_charts, write_results
from daphne_bench import process_cpu

PAYLOAD = {"type": "bench.message", "text": "x" * 40}
REDIS_URL = os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = f"bench{os.getpid()}"


IPC_OPTIONS: dict[str, Any] = {}  # --ipc-spin


def layer_specs() -> dict[str, tuple[str, dict[str, Any]]]:
    ipc = {"prefix": PREFIX, "capacity": 100_000, "message_memory": 64 << 20, **IPC_OPTIONS}
    specs = {"asgi_ipc": ("asgi_ipc.core.IPCChannelLayer", ipc)}
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


def current_cpu(pid: int | str) -> str:
    """The CPU *pid* last ran on (field 39 of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[36]


PINS = {"same": ({0}, {0}), "split": ({0}, {1})}


async def latency(
    path: str, kwargs: dict[str, Any], rounds: int, pin: str = "none"
) -> dict[str, float]:
    """p50 / p99 round trip in us, and how often the two processes shared a CPU."""
    layer = build(path, kwargs)
    peer_process = Peer(path, kwargs, "echo")
    pid = peer_process.proc.pid
    allowed = os.sched_getaffinity(0)
    if pin in PINS:
        os.sched_setaffinity(0, PINS[pin][0])
        os.sched_setaffinity(pid, PINS[pin][1])
    reply = await layer.new_channel()
    samples = []
    together = looks = 0
    try:
        for index in range(rounds + 200):
            if index % 50 == 0:  # where the scheduler put the two processes
                looks += 1
                together += current_cpu("self") == current_cpu(pid)
            started = time.perf_counter()
            await layer.send("bench.ping", {**PAYLOAD, "reply": reply})
            await layer.receive(reply)
            if index >= 200:  # warm-up rounds are not counted
                samples.append(time.perf_counter() - started)
        await layer.send("bench.ping", {"stop": True})
        peer_process.wait()
        await layer.close()
    finally:
        os.sched_setaffinity(0, allowed)
    samples.sort()
    return {
        "p50": samples[len(samples) // 2] * 1e6,
        "p99": samples[int(len(samples) * 0.99)] * 1e6,
        "same_cpu": together / looks,
    }


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
    pid = peer_process.proc.pid
    await asyncio.sleep(0.3)  # let the receive block
    before = process_cpu(pid)
    await asyncio.sleep(seconds)
    used = process_cpu(pid) - before
    await layer.send("bench.idle", {"wake": True})
    peer_process.wait()
    await layer.close()
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
    """LPUSH/BRPOP round trips and (unless *messages* is 0) throughput in one process."""
    import msgpack  # type: ignore[import-untyped]
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    key = f"{PREFIX}.raw"
    body = msgpack.packb(PAYLOAD)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await client.lpush(key, body)
        popped = await client.brpop([key], timeout=5)
        assert popped is not None, "raw redis: BRPOP timed out"
        msgpack.unpackb(popped[1])
        samples.append(time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(messages):
        await client.lpush(key, body)
    rate = messages / (time.perf_counter() - started) if messages else 0.0
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


def quartiles(values: list[float]) -> dict[str, float]:
    """min, lower quartile, median, upper quartile and max of *values*."""
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else ordered * 3
    return {
        "min": ordered[0],
        "q1": cuts[0],
        "median": statistics.median(ordered),
        "q3": cuts[2],
        "max": ordered[-1],
    }


async def echo_runs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The normal-channel echo round trip, the layers taking turns, ``--runs`` times."""
    specs = layer_specs()
    runs: list[dict[str, Any]] = []
    for run in range(1, args.runs + 1):
        order = list(specs.items())
        if run % 2 == 0:  # alternate which layer goes first
            order.reverse()
        figures: dict[str, Any] = {"load_1m": os.getloadavg()[0]}
        for name, (path, kwargs) in order:
            figures[name] = await latency(path, kwargs, args.rounds, args.pin)
        figures["raw redis"] = await raw_redis(args.rounds, 0)
        line = "  ".join(
            f"{name} p50 {figures[name]['p50']:6.1f} us p99 {figures[name]['p99']:7.1f} us"
            for name in specs
        )
        if "asgi_redis" in figures:
            figures["ratio_p50"] = figures["asgi_ipc"]["p50"] / figures["asgi_redis"]["p50"]
            figures["ratio_p99"] = figures["asgi_ipc"]["p99"] / figures["asgi_redis"]["p99"]
            line += f"  ipc/redis p50 {figures['ratio_p50']:.2f}x p99 {figures['ratio_p99']:.2f}x"
        share = figures["asgi_ipc"]["same_cpu"]
        print(f"run {run}: {line}  ipc same-CPU {share:.0%}  ({load()})", flush=True)
        runs.append(figures)
    if "asgi_redis" in specs:
        for key in ("ratio_p50", "ratio_p99"):
            spread = quartiles([run[key] for run in runs])
            print(
                f"normal-channel echo asgi_ipc / asgi_redis {key[6:]} over {len(runs)} runs: "
                + "  ".join(f"{name} {value:.2f}x" for name, value in spread.items())
            )
    return runs


async def full(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Every measurement once per layer: round trip, throughput, idle CPU, recovery."""
    results: dict[str, dict[str, float]] = {}
    for name, (path, kwargs) in layer_specs().items():
        figures = await latency(path, kwargs, args.rounds, args.pin)
        rate = await throughput(path, kwargs, args.messages)
        cpu = await idle_cpu(path, kwargs, args.idle)
        results[name] = {**figures, "rate": rate, "idle_cpu": cpu}
        print(
            f"{name:11s} round trip p50 {figures['p50']:8.1f} us  p99 {figures['p99']:8.1f} us  "
            f"throughput {rate:9.0f} msg/s  idle CPU {cpu:.2f} %",
            flush=True,
        )
    recovery = await lock_recovery(layer_specs()["asgi_ipc"][1], 20)
    results["asgi_ipc"]["recovery_median_ms"] = recovery[10]
    results["asgi_ipc"]["recovery_max_ms"] = recovery[-1]
    print(
        f"asgi_ipc lock recovery after SIGKILL of the holder: median {recovery[10]:.2f} ms, "
        f"max {recovery[-1]:.2f} ms over {len(recovery)} kills"
    )
    floor = results["raw redis"] = await raw_redis(args.rounds, args.messages)
    print(
        f"{'raw redis':11s} round trip p50 {floor['p50']:8.1f} us  p99 {floor['p99']:8.1f} us  "
        f"LPUSH rate {floor['rate']:9.0f} msg/s  (one process, no peer: the floor)"
    )
    ipc = results["asgi_ipc"]
    if "asgi_redis" in results:
        other = results["asgi_redis"]
        print(
            f"asgi_ipc / asgi_redis: normal-channel echo p50 {ipc['p50'] / other['p50']:.2f}x  "
            f"p99 {ipc['p99'] / other['p99']:.2f}x  throughput {ipc['rate'] / other['rate']:.2f}x"
        )
    print(
        f"asgi_ipc / raw redis floor: p50 latency {ipc['p50'] / floor['p50']:.2f}x  "
        f"throughput {ipc['rate'] / floor['rate']:.2f}x"
    )
    return results


# The chart's stacks: ours, the peer layer, and the floor it is built on. _results
# colours by role and knows no "floor" role, so the floor is drawn as the grey one.
STACKS = (
    ("asgi_ipc", "asgi_ipc", "ours"),
    ("asgi_redis", "asgi_redis", "peer"),
    ("raw redis", "raw redis-py (floor)", "upstream"),
)


def series(figures: dict[str, dict[str, float]], metrics: dict[str, str]) -> list[Series]:
    """One Series per stack present in *figures*; *metrics* maps chart metric to figure key."""
    return [
        Series(label, role, {metric: figures[name][key] for metric, key in metrics.items()})
        for name, label, role in STACKS
        if name in figures and all(key in figures[name] for key in metrics.values())
    ]


def run_workloads(runs: list[dict[str, Any]]) -> list[Workload]:
    names = [name for name, _, _ in STACKS if name in runs[0]]
    medians = {
        name: {key: statistics.median(run[name][key] for run in runs) for key in ("p50", "p99")}
        for name in names
    }
    notes: dict[str, Any] = {"runs": runs}
    if "ratio_p50" in runs[0]:
        notes["ratio_p50"] = quartiles([run["ratio_p50"] for run in runs])
        notes["ratio_p99"] = quartiles([run["ratio_p99"] for run in runs])
    return [
        Workload(
            name=f"normal-channel echo round trip, median of {len(runs)} alternated runs",
            unit="us",
            lower_is_better=True,
            metrics=["p50", "p99"],
            series=series(medians, {"p50": "p50", "p99": "p99"}),
            notes=notes,
        )
    ]


def full_workloads(results: dict[str, dict[str, float]]) -> list[Workload]:
    return [
        Workload(
            name="normal-channel echo round trip",
            unit="us",
            lower_is_better=True,
            metrics=["p50", "p99"],
            series=series(results, {"p50": "p50", "p99": "p99"}),
            notes={"figures": results},
        ),
        Workload(
            name="throughput to a worker process",
            unit="msg/s",
            lower_is_better=False,
            metrics=["throughput"],
            series=series(results, {"throughput": "rate"}),
        ),
    ]


async def main(args: argparse.Namespace) -> None:
    before = machine()
    print(f"start: {load()}", flush=True)
    if args.runs > 1:
        workloads = run_workloads(await echo_runs(args))
    else:
        workloads = full_workloads(await full(args))
    print(f"end: {load()}")
    meta = {
        "command": "python bench/asgi_ipc_bench.py " + " ".join(sys.argv[1:]),
        "machine_before": before,
        "machine_after": machine(),
        "settings": {key: value for key, value in vars(args).items() if key != "output"},
    }
    name = "asgi_ipc" if args.runs == 1 else "asgi_ipc-echo-runs"
    path = write_results(name, workloads, meta, args.output)
    print(f"results: {path}")
    if args.charts:
        for chart in render_charts(path):
            print(f"chart: {chart}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        asyncio.run(peer(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument(
        "--runs", type=int, default=1, help="above 1: only the echo, N alternated runs"
    )
    parser.add_argument(
        "--pin",
        choices=["none", "same", "split"],
        default="none",
        help="echo processes: on CPU 0 both (same), on CPUs 0 and 1 (split), or unpinned",
    )
    parser.add_argument(
        "--ipc-spin", type=float, help="asgi_ipc's spin option (seconds; 0 never spins)"
    )
    parser.add_argument("--no-charts", dest="charts", action="store_false")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    arguments = parser.parse_args()
    if arguments.ipc_spin is not None:
        IPC_OPTIONS["spin"] = arguments.ipc_spin
    asyncio.run(main(arguments))
