"""Memory per idle WebSocket, with and without permessage-deflate, on our daphne and uvicorn.

    .venv/bin/python bench/daphne_ws_memory.py [--connections 500]
    .venv/bin/python bench/daphne_ws_memory.py --connections 20  # smoke

Opens N connections (each sends and receives one message so compression state exists when
negotiated) and reports the server's RSS growth per connection. The peer is uvicorn with the
websockets-sansio protocol, without and with its permessage-deflate (websockets' default,
a 12-bit window), which the chart sets beside daphne's with the same window. Results:
``<--output>/daphne_ws_memory.json`` and a chart (bench/_results.py).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

import websockets
from _results import Series, Workload, add_output_options, machine, publish
from daphne_bench import HERE, free_port, wait_listening


async def open_many(
    port: int, count: int, compression: str | None
) -> list[websockets.ClientConnection]:
    sockets = []
    for _ in range(count):
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws", compression=compression, max_size=None
        )
        await ws.send("x" * 2048)
        await ws.recv()
        sockets.append(ws)
    return sockets


def rss(pid: int) -> int:
    """Resident memory of *pid* in bytes (Linux /proc; no psutil needed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def daphne_command(port: int, deflate: bool, window_bits: int) -> list[str]:
    args = [sys.executable, "-m", "daphne", "-v", "0", "-p", str(port)]
    if deflate:
        args += [
            "--websocket-per-message-deflate",
            "--websocket-deflate-window-bits",
            str(window_bits),
        ]
    return args


def uvicorn_command(port: int, deflate: bool, window_bits: int) -> list[str]:
    del window_bits  # uvicorn has no option for it: websockets' defaults apply
    return [
        *(sys.executable, "-m", "uvicorn", "--log-level", "warning", "--ws", "websockets-sansio"),
        *("--ws-per-message-deflate", str(deflate), "--port", str(port)),
    ]


def measure(count: int, deflate: bool, window_bits: int, server: str = "daphne") -> float:
    port = free_port()
    args = (daphne_command if server == "daphne" else uvicorn_command)(port, deflate, window_bits)
    process = subprocess.Popen([*args, "apps:echo"], cwd=HERE)
    try:
        wait_listening(port)

        async def run() -> float:
            warm = await open_many(port, 10, "deflate" if deflate else None)
            time.sleep(0.5)
            before = rss(process.pid)
            sockets = await open_many(port, count, "deflate" if deflate else None)
            time.sleep(0.5)
            after = rss(process.pid)
            for ws in warm + sockets:
                await ws.close()
            return (after - before) / count / 1024

        return asyncio.run(run())
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=500)
    add_output_options(parser)
    args = parser.parse_args()
    before = machine()
    plain = measure(args.connections, False, 15)
    print(f"no compression:            {plain:7.1f} KiB per WebSocket")
    ours = {"no compression": plain}
    for bits in (15, 12, 9):
        value = measure(args.connections, True, bits)
        ours[f"deflate bits={bits}"] = value
        print(f"permessage-deflate bits={bits:2}: {value:7.1f} KiB per WebSocket")
    uvicorn = {
        "no compression": measure(args.connections, False, 15, "uvicorn"),
        "deflate (its default: 12-bit window)": measure(args.connections, True, 15, "uvicorn"),
    }
    for name, value in uvicorn.items():
        print(f"uvicorn, {name}: {value:.1f} KiB per WebSocket")
    # Like for like: uvicorn's permessage-deflate is websockets' default, a 12-bit window
    # (memLevel 5); daphne's window is an option (15 bits by default; deflate is off by default).
    metrics = ["no compression", "deflate, 12-bit window"]
    workload = Workload(
        name=f"memory per idle WebSocket, {args.connections} open",
        unit="KiB",
        lower_is_better=True,
        metrics=metrics,
        series=[
            Series(
                "daphne (ours)",
                "ours",
                dict(zip(metrics, (plain, ours["deflate bits=12"]), strict=True)),
            ),
            Series(
                "uvicorn websockets-sansio",
                "peer",
                dict(zip(metrics, uvicorn.values(), strict=True)),
            ),
        ],
        notes={"daphne": ours, "uvicorn": uvicorn},
    )
    publish("daphne_ws_memory", [workload], before, args, connections=args.connections)


if __name__ == "__main__":
    main()
