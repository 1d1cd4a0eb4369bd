"""Benchmark daphne against uvicorn and hypercorn in the same run; print ratios.

    .venv/bin/python bench/daphne_bench.py [--seconds 5] [--rounds 3]

Servers are pinned to CPU 0 and load clients (wrk, bench/daphne/ws_client.py) to CPU 1. Each
measurement alternates daphne and its peer for ``--rounds`` rounds and reports medians, because
the machine is shared and single runs are noisy.

Next to each throughput row, the server's own CPU time per request / message / handshake
(user + system, the server process and its children, from /proc) is reported: when the
one-core load client is the bottleneck, throughput mostly measures the client, while CPU per
operation still compares the servers' own cost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).parent / "daphne"
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


def _uvicorn(option: str, value: str):
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


SERVERS = {
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


def ws_client(port: int, mode: str, connections: int, seconds: float) -> dict:
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


def compare(ours: str, peers: list[str], app: str, measure, rounds: int, ops) -> dict:
    """Run every server at once and alternate measurements, so load noise hits all alike.

    Each result gets ``cpu_us_per_op``: the server's CPU time over ``ops(result)`` operations.
    """
    names = [ours, *peers]
    results: dict[str, list] = {name: [] for name in names}
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


def median_of(values: list, key: str) -> float:
    return float(statistics.median(v[key] for v in values))


def best_peer(results: dict, peers: list[str], key: str, higher_is_better: bool) -> str:
    pick = max if higher_is_better else min
    return pick(peers, key=lambda name: median_of(results[name], key))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    s, r = args.seconds, args.rounds
    rows = []

    def add(title: str, results: dict, peers: list[str], key: str, higher: bool) -> None:
        peer = best_peer(results, peers, key, higher)
        rows.append((title, median_of(results["daphne"], key), peer, median_of(results[peer], key)))

    def add_cpu(title: str, results: dict, peers: list[str]) -> None:
        add(f"  server CPU us per {title}", results, peers, "cpu_us_per_op", False)

    http_peers = ["uvicorn-httptools"]
    http = compare(
        "daphne",
        http_peers,
        "apps:hello",
        lambda port: {"requests_per_s": wrk(port, s)},
        r,
        lambda result: result["requests_per_s"] * wrk_seconds(s),
    )
    add("HTTP hello-world req/s", http, http_peers, "requests_per_s", True)
    add_cpu("request", http, http_peers)
    ws_peers = ["uvicorn-websockets", "uvicorn-websockets-sansio", "uvicorn-wsproto"]
    for connections in (1, 100, 1000):
        ws = compare(
            "daphne",
            ws_peers,
            "apps:echo",
            lambda port, c=connections: ws_client(port, "echo", c, s),
            r,
            lambda result: result["messages_per_s"] * s,
        )
        add(f"WS echo {connections} conns msgs/s", ws, ws_peers, "messages_per_s", True)
        add_cpu("message", ws, ws_peers)
        add(f"WS echo {connections} conns p50 ms", ws, ws_peers, "p50_ms", False)
        add(f"WS echo {connections} conns p99 ms", ws, ws_peers, "p99_ms", False)
    hs_peers = ["hypercorn", "hypercorn-uvloop"]
    hs = compare(
        "daphne",
        hs_peers,
        "apps:echo",
        lambda port: ws_client(port, "handshake", 20, s),
        r,
        lambda result: result["handshakes_per_s"] * s,
    )
    add("WS handshakes/s", hs, hs_peers, "handshakes_per_s", True)
    add_cpu("handshake", hs, hs_peers)
    print(f"{'measure':34} {'daphne':>9} {'best peer':>26} {'peer':>9} {'ratio':>6}")
    for name, ours, peer, theirs in rows:
        print(f"{name:34} {ours:9.1f} {peer:>26} {theirs:9.1f} {ours / theirs:6.2f}")
    print("ratio = daphne / peer (for latencies and CPU, lower is better: < 1 favours daphne)")


if __name__ == "__main__":
    main()
