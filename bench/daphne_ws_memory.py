"""Memory per idle WebSocket, with and without permessage-deflate, on our daphne.

    .venv/bin/python bench/daphne_ws_memory.py [--connections 500]

Opens N connections (each sends and receives one message so compression state exists when
negotiated) and reports the server's RSS growth per connection.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import psutil
import websockets
from daphne_bench import HERE, free_port, wait_listening


async def open_many(port: int, count: int, compression: str | None) -> list:
    sockets = []
    for _ in range(count):
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws", compression=compression, max_size=None
        )
        await ws.send("x" * 2048)
        await ws.recv()
        sockets.append(ws)
    return sockets


def measure(count: int, deflate: bool, window_bits: int) -> float:
    port = free_port()
    args = [sys.executable, "-m", "daphne", "-v", "0", "-p", str(port)]
    if deflate:
        args += [
            "--websocket-per-message-deflate",
            "--websocket-deflate-window-bits",
            str(window_bits),
        ]
    process = subprocess.Popen([*args, "apps:echo"], cwd=HERE)
    try:
        wait_listening(port)
        server = psutil.Process(process.pid)

        async def run() -> float:
            warm = await open_many(port, 10, "deflate" if deflate else None)
            time.sleep(0.5)
            before = server.memory_info().rss
            sockets = await open_many(port, count, "deflate" if deflate else None)
            time.sleep(0.5)
            after = server.memory_info().rss
            for ws in warm + sockets:
                await ws.close()
            return (after - before) / count / 1024

        return asyncio.run(run())
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=500)
    args = parser.parse_args()
    plain = measure(args.connections, False, 15)
    print(f"no compression:            {plain:7.1f} KiB per WebSocket")
    for bits in (15, 12, 9):
        value = measure(args.connections, True, bits)
        print(f"permessage-deflate bits={bits:2}: {value:7.1f} KiB per WebSocket")


if __name__ == "__main__":
    main()
