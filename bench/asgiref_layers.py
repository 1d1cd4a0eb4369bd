"""Benchmark: asgiref's InMemoryChannelLayer against upstream's and raw asyncio.Queue.

Run from the repository root (the dev venv has matplotlib for the charts):

    python bench/asgiref_layers.py                  # full run, ~1 minute
    python bench/asgiref_layers.py --quick          # smaller counts
    python bench/asgiref_layers.py --no-upstream    # without the upstream peer
    python bench/asgiref_layers.py --output DIR     # JSON + charts to DIR

Three stacks do the same work in every scenario: ours (this repository's layer),
upstream (Channels 4.3.2's ``InMemoryChannelLayer``, which upstream asgiref 3.13.0 does
not have; it runs in a peer process with a venv from PyPI, built once, see
``_upstream_peer``) and the floor (raw ``asyncio.Queue``: a layer cannot do the same
work for less). Each round runs every stack once, one after the other, so background
load hits them alike; ``--repeat`` rounds are taken.

The headline figure of a scenario is each stack's **best round** (the least disturbed by
other processes: a 1,000-member fan-out takes about 4 ms, shorter than a scheduler time
slice on a loaded machine, so its median follows the load rather than the code); the
median round is printed beside ours. ``ours/floor`` is the ratio of the best times (lower
is better; 1.0 would mean the layer costs nothing over a bare queue) and ``speed-up`` is
``upstream / ours`` of the best times (higher is better for us). Every round's time is
kept in the JSON record.

Scenarios:

* ``round trip``: one task sends then receives on the same channel, N times.
* ``ping-pong``: two tasks bounce a message over two channels, N times; every
  message wakes a waiting receiver.
* ``fan-out M``: M member tasks wait on their channels; one ``group_send`` and
  the time until every member has received it. The floor puts a copy of the
  message on M queues.

Results go to ``<output>/asgiref_layers.json`` with one chart per workload
(``bench/_results.py``); the load average before and after is recorded with them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from statistics import median
from typing import Any

from _results import Series, Workload, add_output_options, machine, publish
from _upstream_peer import ASGIREF_UPSTREAM, Peer, build_venv, serve_peer

MESSAGE: dict[str, Any] = {"type": "chat.message", "text": "hello world", "room": "lobby", "n": 1}


def layer_class() -> Any:
    """This repository's layer; in an upstream peer, Channels' (asgiref 3 has none)."""
    try:
        from asgiref.layers import InMemoryChannelLayer
    except ImportError:
        from channels.layers import InMemoryChannelLayer  # type: ignore[no-redef]
    return InMemoryChannelLayer


async def layer_round_trip(count: int) -> float:
    layer = layer_class()(capacity=count + 1)
    start = time.perf_counter()
    for _ in range(count):
        await layer.send("bench.rt", MESSAGE)
        await layer.receive("bench.rt")
    return time.perf_counter() - start


async def queue_round_trip(count: int) -> float:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=count + 1)
    start = time.perf_counter()
    for _ in range(count):
        await queue.put(dict(MESSAGE))
        await queue.get()
    return time.perf_counter() - start


async def _ping_pong(
    count: int,
    send: Callable[[str, dict[str, Any]], Awaitable[None]],
    receive: Callable[[str], Awaitable[dict[str, Any]]],
) -> float:
    async def echo() -> None:
        for _ in range(count):
            await send("bench.pong", await receive("bench.ping"))

    task = asyncio.ensure_future(echo())
    await asyncio.sleep(0)
    start = time.perf_counter()
    for _ in range(count):
        await send("bench.ping", MESSAGE)
        await receive("bench.pong")
    elapsed = time.perf_counter() - start
    await task
    return elapsed


async def layer_ping_pong(count: int) -> float:
    layer = layer_class()()
    return await _ping_pong(count, layer.send, layer.receive)


async def queue_ping_pong(count: int) -> float:
    queues: dict[str, asyncio.Queue[dict[str, Any]]] = {
        "bench.ping": asyncio.Queue(100),
        "bench.pong": asyncio.Queue(100),
    }

    async def send(name: str, message: dict[str, Any]) -> None:
        await queues[name].put(dict(message))

    async def receive(name: str) -> dict[str, Any]:
        return await queues[name].get()

    return await _ping_pong(count, send, receive)


async def _fan_out(
    members: int,
    receive: Callable[[int], Awaitable[dict[str, Any]]],
    broadcast: Callable[[], Awaitable[None]],
) -> float:
    tasks = [asyncio.ensure_future(receive(index)) for index in range(members)]
    await asyncio.sleep(0)  # every member is now waiting
    start = time.perf_counter()
    await broadcast()
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def layer_fan_out(members: int) -> float:
    layer = layer_class()()
    for index in range(members):
        await layer.group_add("bench-group", f"bench.member.{index}")

    async def receive(index: int) -> dict[str, Any]:
        message: dict[str, Any] = await layer.receive(f"bench.member.{index}")
        return message

    return await _fan_out(members, receive, lambda: layer.group_send("bench-group", MESSAGE))


async def queue_fan_out(members: int) -> float:
    queues: list[asyncio.Queue[dict[str, Any]]] = [asyncio.Queue(100) for _ in range(members)]

    async def broadcast() -> None:
        for queue in queues:
            queue.put_nowait(dict(MESSAGE))

    async def receive(index: int) -> dict[str, Any]:
        return await queues[index].get()

    return await _fan_out(members, receive, broadcast)


Scenario = Callable[[int], Coroutine[Any, Any, float]]

#: Peer case name -> the layer's side of that scenario (the peer runs it with upstream's).
PEER_CASES: dict[str, Scenario] = {
    "round-trip": layer_round_trip,
    "ping-pong": layer_ping_pong,
    "fan-out": layer_fan_out,
}


def run_peer(case: str) -> None:
    """``--peer CASE``: time one scenario with the layer this interpreter has (upstream's)."""
    import asgiref
    import channels

    scenario = PEER_CASES[case]
    versions = f"channels {channels.__version__}, asgiref {asgiref.__version__}"
    serve_peer(versions, lambda size: asyncio.run(scenario(size)))


@dataclass(frozen=True)
class Row:
    """One scenario: its label, both local sides, the size, and the peer case (if any)."""

    label: str
    ours: Scenario
    floor: Scenario
    size: int
    peer_case: str
    per: int  # divide the times by this for the chart (1 for a single fan-out)


@dataclass(frozen=True)
class Timings:
    """Every round's time (seconds) for each stack of one row."""

    ours: list[float]
    floor: list[float]
    upstream: list[float]


def measure_row(repeat: int, row: Row, peer: Peer | None) -> Timings:
    """``repeat`` rounds; each round runs ours, the floor, then upstream, once each."""
    timings = Timings([], [], [])
    for _ in range(repeat):
        timings.ours.append(asyncio.run(row.ours(row.size)))
        timings.floor.append(asyncio.run(row.floor(row.size)))
        if peer is not None:
            timings.upstream.append(peer.measure(row.size))
    return timings


def print_row(row: Row, timings: Timings) -> None:
    ours, floor = min(timings.ours), min(timings.floor)
    line = (
        f"{row.label:<22}{ours * 1000:>10.3f}ms{median(timings.ours) * 1000:>12.3f}ms"
        f"{floor * 1000:>12.3f}ms{ours / floor:>10.2f}x"
    )
    if timings.upstream:
        upstream = min(timings.upstream)
        line += f"{upstream * 1000:>12.3f}ms{upstream / ours:>9.1f}x"
    print(line, flush=True)


def workloads(rows: list[Row], results: dict[str, Timings], versions: str | None) -> list[Workload]:
    """Two charts: time per message (round trip, ping-pong) and fan-out time, best rounds."""

    def series(
        pick: Callable[[Timings], list[float]], scale: float, group: list[Row]
    ) -> dict[str, float]:
        return {r.label: min(pick(results[r.label])) * scale / r.per for r in group}

    charts = []
    for name, unit, scale, group in (
        ("in-memory layer: time per message", "ns", 1e9, [r for r in rows if r.per > 1]),
        (
            "in-memory layer: group_send, time until every member received it",
            "µs",
            1e6,
            [r for r in rows if r.per == 1],
        ),
    ):
        stacks = [
            Series("ours (asgiref.layers)", "ours", series(lambda t: t.ours, scale, group)),
        ]
        if versions is not None:
            label = f"upstream ({versions})"
            stacks.append(Series(label, "upstream", series(lambda t: t.upstream, scale, group)))
        stacks.append(
            Series("floor: asyncio.Queue", "peer", series(lambda t: t.floor, scale, group))
        )
        notes = {
            "figure": "best round (least disturbed); every round below",
            "rounds_seconds": {
                r.label: {
                    "ours": results[r.label].ours,
                    "floor": results[r.label].floor,
                    "upstream": results[r.label].upstream,
                }
                for r in group
            },
        }
        charts.append(Workload(name, unit, True, [r.label for r in group], stacks, notes))
    return charts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--repeat", type=int, default=15, help="rounds (the best is reported)")
    parser.add_argument(
        "--no-upstream", action="store_true", help="skip upstream Channels' layer (needs PyPI once)"
    )
    add_output_options(parser)
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        run_peer(args.peer)
        return
    before = machine()
    python = None if args.no_upstream else build_venv(*ASGIREF_UPSTREAM)
    count = 2_000 if args.quick else 20_000
    rows = [
        Row(f"round trip x{count}", layer_round_trip, queue_round_trip, count, "round-trip", count),
        Row(f"ping-pong x{count}", layer_ping_pong, queue_ping_pong, count, "ping-pong", count),
    ]
    rows += [
        Row(f"fan-out {m}", layer_fan_out, queue_fan_out, m, "fan-out", 1) for m in (1, 100, 1000)
    ]
    print(
        f"{'scenario (best round)':<22}{'ours':>12}{'ours median':>14}{'floor':>14}"
        f"{'ours/floor':>11}{'upstream':>14}{'speed-up':>9}"
    )
    results: dict[str, Timings] = {}
    versions = None
    for row in rows:
        peer = None if python is None else Peer(__file__, row.peer_case, python)
        if peer is not None:
            versions = peer.versions
        results[row.label] = measure_row(args.repeat, row, peer)
        if peer is not None:
            peer.close()
        print_row(row, results[row.label])
    if versions is not None:
        print(f"# upstream: {versions}")
    publish(
        "asgiref_layers",
        workloads(rows, results, versions),
        before,
        args,
        command="python bench/asgiref_layers.py " + " ".join(sys.argv[1:]),
        settings={k: v for k, v in vars(args).items() if k not in ("output", "peer")},
    )


if __name__ == "__main__":
    main()
