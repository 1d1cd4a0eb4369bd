"""What gateway mode's extra hop costs: the same app in-process and behind the gateway, one run.

    .venv/bin/python bench/gateway_bench.py [--seconds 5] [--clients 20]

Needs Redis (ASGI_REDIS_URL, default redis://127.0.0.1:6379/0). Two scenarios, each run
against both modes, one after the other:

* echo: ``--clients`` WebSocket clients each do round trips back to back; latency is
  one round trip, throughput is round trips per second over all clients;
* chat broadcast: ``--clients`` members of one room; one member at a time sends, and a
  round ends when every member has the message (latency is send to each delivery;
  throughput is deliveries per second).

In-process is one daphne process running the app; gateway mode is one daphne-gateway plus
one daphne-worker (same app, same Redis layer). The machine is shared, so treat single runs
as rough; the ratios are the point.

    .venv/bin/python bench/gateway_bench.py --seconds 1 --clients 5  # smoke

Results: ``<--output>/gateway_bench.json`` and four charts (bench/_results.py); gateway mode
is drawn as ours, in-process daphne (the same app without the hop) as the peer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import websockets
from _results import Series, Workload, add_output_options, machine, publish

HERE = Path(__file__).parent
REDIS = os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"nothing listened on port {port} within 60s") from None
            time.sleep(0.1)


@contextlib.contextmanager
def _processes(argvs: list[list[str]], port: int) -> Iterator[None]:
    prefix = f"gwbench-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "DJANGO_SETTINGS_MODULE": "gateway_bench_site",
        "GATEWAY_BENCH_PREFIX": prefix,
    }
    layer = json.dumps({"hosts": [REDIS], "prefix": prefix, "capacity": 5000})
    procs = [
        subprocess.Popen(
            [arg.replace("{layer}", layer) for arg in argv],
            cwd=HERE,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for argv in argvs
    ]
    try:
        _wait_listening(port)
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def in_process(port: int) -> list[list[str]]:
    return [[sys.executable, "-m", "daphne", "-p", str(port), "gateway_bench_app:application"]]


def gateway(port: int) -> list[list[str]]:
    layer = ["--layer", "asgi_redis.core.RedisChannelLayer", "--layer-config", "{layer}"]
    return [
        [sys.executable, "-m", "daphne.gateway", "-p", str(port), "-v", "0", *layer],
        [
            sys.executable,
            "-m",
            "daphne.gateway",
            "worker",
            "gateway_bench_app:application",
            "-v",
            "0",
            *layer,
        ],
    ]


async def _connect(url: str) -> websockets.ClientConnection:
    deadline = time.monotonic() + 30
    while True:  # the worker may still be starting: the gateway holds, then answers
        try:
            return await websockets.connect(url, max_queue=None)
        except (OSError, websockets.InvalidStatus):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def echo(port: int, clients: int, seconds: float) -> tuple[list[float], float]:
    sockets = [await _connect(f"ws://127.0.0.1:{port}/echo/") for _ in range(clients)]
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def run(ws: websockets.ClientConnection) -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            await ws.send("ping")
            await ws.recv()
            latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    await asyncio.gather(*(run(ws) for ws in sockets))
    elapsed = time.monotonic() - began
    for ws in sockets:
        await ws.close()
    return latencies, len(latencies) / elapsed


async def broadcast(port: int, clients: int, seconds: float) -> tuple[list[float], float]:
    sockets = [await _connect(f"ws://127.0.0.1:{port}/room/") for _ in range(clients)]
    await asyncio.sleep(0.5)  # let every member's group_add land
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    began = time.monotonic()
    rounds = 0
    while time.monotonic() < stop:
        sender = sockets[rounds % clients]
        started = time.perf_counter()
        await sender.send(str(rounds))

        deliveries = (_delivery(ws, str(rounds), started, latencies) for ws in sockets)
        await asyncio.wait_for(asyncio.gather(*deliveries), 30)
        rounds += 1
    elapsed = time.monotonic() - began
    for ws in sockets:
        await ws.close()
    return latencies, len(latencies) / elapsed


async def _delivery(
    ws: websockets.ClientConnection, tag: str, started: float, latencies: list[float]
) -> None:
    while await ws.recv() != tag:
        pass
    latencies.append(time.perf_counter() - started)


def _summary(latencies: list[float], rate: float) -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50": cuts[49] * 1000, "p99": cuts[98] * 1000, "rate": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=20)
    add_output_options(parser)
    args = parser.parse_args()
    before = machine()
    results: dict[tuple[str, str], dict[str, float]] = {}
    for mode, argvs in (("in-process", in_process), ("gateway", gateway)):
        port = _free_port()
        with _processes(argvs(port), port):
            for name, scenario in (("echo", echo), ("chat broadcast", broadcast)):
                latencies, rate = asyncio.run(scenario(port, args.clients, args.seconds))
                results[(name, mode)] = _summary(latencies, rate)
    print(f"{args.clients} clients, {args.seconds:g}s per measurement")
    print(f"{'scenario':<16}{'mode':<12}{'p50 ms':>9}{'p99 ms':>9}{'per s':>10}")
    for name in ("echo", "chat broadcast"):
        for mode in ("in-process", "gateway"):
            r = results[(name, mode)]
            print(f"{name:<16}{mode:<12}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['rate']:>10.0f}")
        base, hop = results[(name, "in-process")], results[(name, "gateway")]
        ratios = [hop[key] / base[key] for key in ("p50", "p99", "rate")]
        print(f"{'':<16}{'ratio':<12}" + "".join(f"{r:>8.2f}x" for r in ratios))
    charts = []
    for name in ("echo", "chat broadcast"):
        for title, unit, keys, lower in (
            (f"{name}, latency", "ms", ("p50", "p99"), True),
            (f"{name}, per s", "per s", ("rate",), False),
        ):
            metrics = [unit] if keys == ("rate",) else list(keys)
            charts.append(
                Workload(
                    name=title,
                    unit=unit,
                    lower_is_better=lower,
                    metrics=metrics,
                    series=[
                        Series(
                            label,
                            role,
                            dict(
                                zip(metrics, (results[(name, mode)][k] for k in keys), strict=True)
                            ),
                        )
                        for label, role, mode in (
                            ("gateway mode (ours)", "ours", "gateway"),
                            ("in-process daphne", "peer", "in-process"),
                        )
                    ],
                )
            )
    publish("gateway_bench", charts, before, args, seconds=args.seconds, clients=args.clients)


if __name__ == "__main__":
    main()
