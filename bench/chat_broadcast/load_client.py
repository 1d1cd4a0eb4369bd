"""Load client for bench/chat_broadcast.py: N sockets in one chat room, one of them talks.

    python load_client.py --port P --room R --sockets N --broadcasts B [--warmup W]

Prints one JSON object on stdout: the connect rate, one latency per broadcast (seconds from
the send until the last socket had the message), and the client's own CPU use.

Invariants the client checks (a broken run exits non-zero with the reason, it never reports):
every socket receives every broadcast exactly once and in order, and nothing else.

The client is raw asyncio protocols (uvloop when installed): a frame is parsed with a few
slices, so that at 1,000 sockets the client stays far below one core and the server is what
is measured. Its CPU share of the broadcast phase is reported to prove it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The handshake and the loop choice are the WebSocket echo client's (bench/daphne).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "daphne"))
from ws_client import _request, _runner

CONNECT_BATCH = 100
TIMEOUT_S = 60.0


class BenchFailure(Exception):
    """The run is invalid (a socket missed, repeated or reordered a message, or closed)."""


def masked_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A client frame (FIN, text by default); clients must mask (RFC 6455 5.3)."""
    key = os.urandom(4)
    mask = (key * (len(payload) // 4 + 1))[: len(payload)]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(
        len(payload), "big"
    )
    size = len(payload)
    first = 0x80 | opcode
    head = (
        struct.pack("!BB", first, 0x80 | size)
        if size < 126
        else struct.pack("!BBH", first, 0xFE, size)
    )
    return head + key + body


class Member(asyncio.Protocol):
    """One socket of the room: records when each broadcast arrived."""

    def __init__(self, on_message: Callable[[int], None]) -> None:
        loop = asyncio.get_running_loop()
        self.on_message = on_message
        self.opened = loop.create_future()
        self.buffer = b""
        self.received: list[int] = []
        self.error: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, so no isinstance check.
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.opened.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(BenchFailure(f"handshake refused: {self.buffer[:80]!r}"))
                return
            self.buffer = self.buffer[end + 4 :]
            self.opened.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    break
                length, start = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    break
                length, start = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < start + length:
                break
            payload, buffer = buffer[start : start + length], buffer[start + length :]
            if opcode == 9:  # a server's keep-alive ping (daphne sends one every 20 s)
                self.transport.write(masked_frame(payload, opcode=0xA))
                continue
            if opcode == 0xA:
                continue
            if opcode != 1:
                self.error = f"unexpected frame opcode {opcode}: {payload[:80]!r}"
                continue
            seq = int(json.loads(payload)["message"].split(":", 1)[0])
            self.received.append(seq)
            self.on_message(seq)
        self.buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(BenchFailure(f"closed during handshake: {exc!r}"))
        elif self.error is None:
            self.error = f"connection lost: {exc!r}"


class Room:
    """Counts arrivals of the broadcast in flight; resolves a future when all have it."""

    def __init__(self, sockets: int) -> None:
        self.sockets = sockets
        self.current = -1
        self.count = 0
        self.last_arrival = 0.0
        self.complete: asyncio.Future[None] | None = None

    def expect(self, seq: int) -> asyncio.Future[None]:
        self.current, self.count = seq, 0
        self.complete = asyncio.get_running_loop().create_future()
        return self.complete

    def arrived(self, seq: int) -> None:
        if seq != self.current:
            return  # caught by the per-socket order check at the end
        self.count += 1
        if self.count == self.sockets:
            self.last_arrival = time.perf_counter()
            assert self.complete is not None
            self.complete.set_result(None)


async def connect_all(host: str, port: int, path: str, room: Room) -> list[Member]:
    loop = asyncio.get_running_loop()
    members: list[Member] = []
    for start in range(0, room.sockets, CONNECT_BATCH):
        batch = []
        for _ in range(min(CONNECT_BATCH, room.sockets - start)):
            _, member = await loop.create_connection(lambda: Member(room.arrived), host, port)
            member.transport.write(_request(host, port, path))
            batch.append(member)
        await asyncio.wait_for(asyncio.gather(*(m.opened for m in batch)), TIMEOUT_S)
        members += batch
    return members


def payload(seq: int, size: int) -> bytes:
    text = f"{seq}:".ljust(size, "x")
    return json.dumps({"message": text}).encode()


async def broadcast(members: list[Member], room: Room, seq: int, size: int) -> float:
    frame = masked_frame(payload(seq, size))
    lost = [index for index, member in enumerate(members) if member.error is not None]
    if lost:
        raise BenchFailure(f"before broadcast {seq}, socket {lost[0]}: {members[lost[0]].error}")
    done = room.expect(seq)
    sent = time.perf_counter()
    members[0].transport.write(frame)
    try:
        await asyncio.wait_for(asyncio.shield(done), TIMEOUT_S)
    except TimeoutError:
        missing = sum(1 for m in members if seq not in m.received)
        raise BenchFailure(
            f"broadcast {seq}: {missing} of {len(members)} sockets did not get it in {TIMEOUT_S}s"
        ) from None
    return room.last_arrival - sent


def check_delivery(members: list[Member], expected: list[int]) -> None:
    for index, member in enumerate(members):
        if member.error is not None:
            raise BenchFailure(f"socket {index}: {member.error}")
        if member.received != expected:
            raise BenchFailure(
                f"socket {index} received {member.received[:50]} (first 50), expected "
                f"each of 0..{len(expected) - 1} exactly once, in order"
            )


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(args: argparse.Namespace) -> dict[str, Any]:
    room = Room(args.sockets)
    path = f"/ws/chat/{args.room}/"
    begin = time.perf_counter()
    members = await connect_all(args.host, args.port, path, room)
    connect_s = time.perf_counter() - begin
    await asyncio.sleep(0.2)  # let the last joins settle before timing
    latencies: list[float] = []
    cpu_before, wall_before = cpu_seconds(), time.perf_counter()
    total = args.warmup + args.broadcasts
    for seq in range(total):
        latency = await broadcast(members, room, seq, args.size)
        if seq >= args.warmup:
            latencies.append(latency)
        await asyncio.sleep(args.pause)
    cpu_used, wall = cpu_seconds() - cpu_before, time.perf_counter() - wall_before
    check_delivery(members, list(range(total)))
    for member in members:
        member.transport.close()
    return {
        "sockets": args.sockets,
        "broadcasts": args.broadcasts,
        "warmup": args.warmup,
        "connect_s": connect_s,
        "connects_per_s": args.sockets / connect_s,
        "latencies_s": latencies,
        "client_cpu_s": cpu_used,
        # Near 1.0 would mean the client, not the server, sets the pace.
        "client_cpu_share": cpu_used / wall,
        "client_cpu_ms_per_broadcast": cpu_used * 1000 / total,
        "delivered": args.sockets * total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--sockets", type=int, required=True)
    parser.add_argument("--broadcasts", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--size", type=int, default=64, help="characters in each message")
    parser.add_argument("--pause", type=float, default=0.02, help="seconds between broadcasts")
    parser.add_argument("--loop", choices=("auto", "asyncio"), default="auto")
    args = parser.parse_args()
    loop_name, run_with = _runner(args.loop)
    try:
        result = run_with(run(args))
    except BenchFailure as exc:
        print(f"chat_broadcast load client: FAILED: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    result["loop"] = loop_name
    print(json.dumps(result))


if __name__ == "__main__":
    main()
