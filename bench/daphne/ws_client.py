"""A lean WebSocket load client: N connections, each echoing one message at a time.

Raw asyncio protocols with pre-masked frames keep the client cheap, so the server under test
is the bottleneck; uvloop drives them when it is installed (``--loop asyncio`` turns it off).
Reports messages/s and round-trip p50/p99 (ms), or handshakes/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import struct
import time

PAYLOAD = b"x" * 64


def _frame(payload: bytes) -> bytes:
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + key + masked


def _request(host: str, port: int, path: str) -> bytes:
    key = base64.b64encode(os.urandom(16))
    return (
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        ).encode()
        + b"Sec-WebSocket-Key: "
        + key
        + b"\r\n\r\n"
    )


class EchoClient(asyncio.Protocol):
    def __init__(self, stats: dict, stop_at: list[float]) -> None:
        self.stats = stats
        self.stop_at = stop_at
        self.buffer = b""
        self.open = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.frame = _frame(PAYLOAD)
        self.sent_at = 0.0
        self.running = False

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport

    def start(self) -> None:
        self.running = True
        self._send()

    def _send(self) -> None:
        self.sent_at = time.perf_counter()
        self.transport.write(self.frame)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.open.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.open.set_exception(RuntimeError(self.buffer[:80]))
                return
            self.buffer = self.buffer[end + 4 :]
            self.open.set_result(None)
        while len(self.buffer) >= 2:
            length = self.buffer[1] & 0x7F
            header = 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                length = struct.unpack("!H", self.buffer[2:4])[0]
                header = 4
            if len(self.buffer) < header + length:
                return
            self.buffer = self.buffer[header + length :]
            if self.running:
                now = time.perf_counter()
                self.stats["latencies"].append(now - self.sent_at)
                self.stats["count"] += 1
                if now < self.stop_at[0]:
                    self._send()
                else:
                    self.running = False
                    self.closed.set_result(None) if not self.closed.done() else None

    def connection_lost(self, exc):  # type: ignore[override]
        if not self.open.done():
            self.open.set_exception(exc or ConnectionError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(None)


async def echo(host: str, port: int, path: str, connections: int, seconds: float) -> dict:
    loop = asyncio.get_running_loop()
    stats: dict = {"count": 0, "latencies": []}
    stop_at = [float("inf")]
    clients = []
    for start in range(0, connections, 100):
        batch = []
        for _ in range(min(100, connections - start)):
            _, client = await loop.create_connection(lambda: EchoClient(stats, stop_at), host, port)
            client.transport.write(_request(host, port, path))
            batch.append(client)
        await asyncio.gather(*(c.open for c in batch))
        clients += batch
    begin = time.perf_counter()
    stop_at[0] = begin + seconds
    for client in clients:
        client.start()
    await asyncio.gather(*(c.closed for c in clients))
    elapsed = time.perf_counter() - begin
    for client in clients:
        client.transport.close()
    latencies = sorted(stats["latencies"])
    return {
        "connections": connections,
        "messages_per_s": stats["count"] / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else None,
    }


async def handshakes(host: str, port: int, path: str, concurrency: int, seconds: float) -> dict:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        request_bytes = _request(host, port, path)
        while time.perf_counter() < deadline:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request_bytes)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(head[:80])
            done += 1
            writer.transport.abort()

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"handshakes_per_s": done / (time.perf_counter() - begin)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("echo", "handshake"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/ws")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--loop", choices=("auto", "asyncio"), default="auto")
    args = parser.parse_args()
    if args.mode == "echo":
        work = echo(args.host, args.port, args.path, args.connections, args.seconds)
    else:
        work = handshakes(args.host, args.port, args.path, args.connections, args.seconds)
    loop_name, run = _runner(args.loop)
    result = run(work)
    result["loop"] = loop_name
    print(json.dumps(result))


def _runner(loop: str):
    """uvloop's runner when installed and not turned off (a lighter client), else asyncio's."""
    if loop == "auto":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return "uvloop", uvloop.run
    return "asyncio", asyncio.run


if __name__ == "__main__":
    main()
