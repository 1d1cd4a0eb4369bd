"""Benchmark daphne against uvicorn and hypercorn in the same run; print ratios.

    .venv/bin/python bench/daphne_bench.py [--seconds 5] [--rounds 3] [--only http,ws,handshake]
    .venv/bin/python bench/daphne_bench.py --seconds 1 --rounds 1 --connections 1  # smoke

Servers are pinned to CPU 0 and load clients (wrk, bench/daphne/ws_client.py) to CPU 1. Each
measurement alternates daphne and its peer for ``--rounds`` rounds and reports medians, because
the machine is shared and single runs are noisy.

Next to each throughput row, the server's own CPU time per request / message / handshake
(user + system, the server process and its children, from /proc) is reported: when the
one-core load client is the bottleneck, throughput mostly measures the client, while CPU per
operation still compares the servers' own cost.

Results: ``<--output>/daphne_bench.json`` (every server's medians in each workload's notes)
and one chart per workload, daphne against the best peer (bench/_results.py).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _results import Series, Workload, add_output_options, machine, publish

HERE = Path(__file__).parent / "daphne"
#: One measurement's figures (a rate, latencies, ``cpu_us_per_op``), and each server's rounds.
Result = dict[str, Any]
Results = dict[str, list[Result]]
Command = Callable[[str, int], list[str]]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by *pid* and its live descendants (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += table.get(current, (0, 0))[1]
        todo.extend(child for child, (parent, _) in table.items() if parent == current)
    return total / tick


def _uvicorn(option: str, value: str) -> Command:
    def command(app: str, port: int) -> list[str]:
        return [
            PY,
            "-m",
            "uvicorn",
            "--log-level",
            "warning",
            "--no-access-log",
            option,
            value,
            "--port",
            str(port),
            app,
        ]

    return command


SERVERS: dict[str, Command] = {
    "daphne": lambda app, port: [
        PY,
        "-m",
        "daphne",
        "-v",
        "0",
        "--websocket_connect_timeout",
        "60",
        "-p",
        str(port),
        app,
    ],
    "uvicorn-httptools": _uvicorn("--http", "httptools"),
    "uvicorn-websockets": _uvicorn("--ws", "websockets"),
    "uvicorn-websockets-sansio": _uvicorn("--ws", "websockets-sansio"),
    "uvicorn-wsproto": _uvicorn("--ws", "wsproto"),
    "hypercorn": lambda app, port: [
        PY,
        "-m",
        "hypercorn",
        "--log-level",
        "warning",
        "-b",
        f"127.0.0.1:{port}",
        app,
    ],
    "hypercorn-uvloop": lambda app, port: [
        PY,
        "-m",
        "hypercorn",
        "--worker-class",
        "uvloop",
        "--log-level",
        "warning",
        "-b",
        f"127.0.0.1:{port}",
        app,
    ],
}


@contextlib.contextmanager
def pinned_server(
    command: list[str], port: int, cwd: Path = HERE, env: dict[str, str] | None = None
) -> Iterator[int]:
    """Run *command* (listening on *port*) on CPU 0 until the block ends; yield its pid."""
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        yield process.pid  # taskset execs the server: same pid
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def running(name: str, app: str) -> Iterator[tuple[int, int]]:
    port = free_port()
    with pinned_server(SERVERS[name](app, port), port) as pid:
        yield port, pid


def wrk_seconds(seconds: float) -> int:
    """wrk's -d takes whole seconds."""
    return max(1, round(seconds))


def wrk(port: int, seconds: float) -> float:
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            "-c64",
            f"-d{wrk_seconds(seconds)}s",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output: {out}")
    return float(match[1])


def ws_client(port: int, mode: str, connections: int, seconds: float) -> Result:
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            PY,
            str(HERE / "ws_client.py"),
            mode,
            "--port",
            str(port),
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


def echo_client(port: int, connections: int, seconds: float) -> Result:
    return ws_client(port, "echo", connections, seconds)


def compare(
    ours: str,
    peers: list[str],
    app: str,
    measure: Callable[[int], Result],
    rounds: int,
    ops: Callable[[Result], float],
) -> Results:
    """Run every server at once and alternate measurements, so load noise hits all alike.

    Each result gets ``cpu_us_per_op``: the server's CPU time over ``ops(result)`` operations.
    """
    names = [ours, *peers]
    results: Results = {name: [] for name in names}
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(running(name, app)) for name in names}
        for _ in range(rounds):
            for name in names:
                port, pid = servers[name]
                before = process_cpu(pid)
                result = measure(port)
                used = process_cpu(pid) - before
                result["cpu_us_per_op"] = used * 1e6 / max(ops(result), 1)
                results[name].append(result)
    return results


def median_of(values: list[Result], key: str) -> float:
    return float(statistics.median(v[key] for v in values))


def best_peer(results: Results, peers: list[str], key: str, higher_is_better: bool) -> str:
    pick = max if higher_is_better else min
    return pick(peers, key=lambda name: median_of(results[name], key))


#: The parts ``--only`` selects: HTTP hello-world, WebSocket echo, WebSocket handshakes.
PARTS = ("http", "ws", "handshake")
HTTP_PEERS = ["uvicorn-httptools"]
WS_PEERS = ["uvicorn-websockets", "uvicorn-websockets-sansio", "uvicorn-wsproto"]
HANDSHAKE_PEERS = ["uvicorn-websockets", "hypercorn", "hypercorn-uvloop"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help="comma-separated parts to run, of: " + ", ".join(PARTS) + " (default: all)",
    )
    parser.add_argument(
        "--connections",
        default="1,100,1000",
        help="comma-separated WebSocket echo connection counts (default 1,100,1000)",
    )
    add_output_options(parser)
    args = parser.parse_args(argv)
    args.parts = [part for part in args.only.split(",") if part]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}")
    args.connection_counts = [int(c) for c in args.connections.split(",") if c]
    return args


def medians(results: Results) -> dict[str, dict[str, float]]:
    """Per server, the median of every figure its rounds measured."""
    return {
        name: {
            key: median_of(rounds, key)
            for key, value in rounds[0].items()
            if isinstance(value, int | float)
        }
        for name, rounds in results.items()
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    before = machine()
    s, r = args.seconds, args.rounds
    rows = []
    workloads: list[Workload] = []
    ws_rates: dict[str, dict[str, float]] = {"daphne": {}, "best uvicorn": {}}
    ws_p99: dict[str, dict[str, float]] = {"daphne": {}, "best uvicorn": {}}
    notes: dict[str, Any] = {}

    def add(title: str, results: Results, peers: list[str], key: str, higher: bool) -> str:
        peer = best_peer(results, peers, key, higher)
        rows.append((title, median_of(results["daphne"], key), peer, median_of(results[peer], key)))
        return peer

    def add_cpu(title: str, results: Results, peers: list[str]) -> None:
        add(f"  server CPU us per {title}", results, peers, "cpu_us_per_op", False)

    def chart(name: str, unit: str, results: Results, peer: str, key: str, higher: bool) -> None:
        workloads.append(
            Workload(
                name=name,
                unit=unit,
                lower_is_better=not higher,
                metrics=[unit],
                series=[
                    Series("daphne (ours)", "ours", {unit: median_of(results["daphne"], key)}),
                    Series(peer, "peer", {unit: median_of(results[peer], key)}),
                ],
                notes={"medians": medians(results)},
            )
        )

    if "http" in args.parts:
        http = compare(
            "daphne",
            HTTP_PEERS,
            "apps:hello",
            lambda port: {"requests_per_s": wrk(port, s)},
            r,
            lambda result: result["requests_per_s"] * wrk_seconds(s),
        )
        peer = add("HTTP hello-world req/s", http, HTTP_PEERS, "requests_per_s", True)
        add_cpu("request", http, HTTP_PEERS)
        chart("HTTP hello-world, req/s", "req/s", http, peer, "requests_per_s", True)
    if "ws" in args.parts:
        for connections in args.connection_counts:
            ws = compare(
                "daphne",
                WS_PEERS,
                "apps:echo",
                functools.partial(echo_client, connections=connections, seconds=s),
                r,
                lambda result: result["messages_per_s"] * s,
            )
            peer = add(f"WS echo {connections} conns msgs/s", ws, WS_PEERS, "messages_per_s", True)
            add_cpu("message", ws, WS_PEERS)
            add(f"WS echo {connections} conns p50 ms", ws, WS_PEERS, "p50_ms", False)
            p99_peer = add(f"WS echo {connections} conns p99 ms", ws, WS_PEERS, "p99_ms", False)
            metric = f"{connections} conns"
            ws_rates["daphne"][metric] = median_of(ws["daphne"], "messages_per_s")
            ws_rates["best uvicorn"][metric] = median_of(ws[peer], "messages_per_s")
            ws_p99["daphne"][metric] = median_of(ws["daphne"], "p99_ms")
            ws_p99["best uvicorn"][metric] = median_of(ws[p99_peer], "p99_ms")
            notes[metric] = {"best_peer": peer, "medians": medians(ws)}
        for title, unit, values, higher in (
            ("WS echo, msgs/s", "msgs/s", ws_rates, True),
            ("WS echo, p99 latency", "ms", ws_p99, False),
        ):
            workloads.append(
                Workload(
                    name=title,
                    unit=unit,
                    lower_is_better=not higher,
                    metrics=list(values["daphne"]),
                    series=[
                        Series("daphne (ours)", "ours", values["daphne"]),
                        Series("best uvicorn (per column)", "peer", values["best uvicorn"]),
                    ],
                    notes=notes,
                )
            )
    if "handshake" in args.parts:
        hs = compare(
            "daphne",
            HANDSHAKE_PEERS,
            "apps:echo",
            lambda port: ws_client(port, "handshake", 20, s),
            r,
            lambda result: result["handshakes_per_s"] * s,
        )
        peer = add("WS handshakes/s", hs, HANDSHAKE_PEERS, "handshakes_per_s", True)
        add_cpu("handshake", hs, HANDSHAKE_PEERS)
        chart("WS handshakes/s", "handshakes/s", hs, peer, "handshakes_per_s", True)
    print(f"{'measure':34} {'daphne':>9} {'best peer':>26} {'peer':>9} {'ratio':>6}")
    for name, ours, peer, theirs in rows:
        print(f"{name:34} {ours:9.1f} {peer:>26} {theirs:9.1f} {ours / theirs:6.2f}")
    print("ratio = daphne / peer (for latencies and CPU, lower is better: < 1 favours daphne)")
    publish("daphne_bench", workloads, before, args, seconds=s, rounds=r, parts=args.parts)


if __name__ == "__main__":
    main()
