"""Run one layer operation and freeze (SIGSTOP) in the middle of it.

Usage: crash_peer.py PREFIX OP STOP_AT

The process stops itself right after the STOP_AT-th logged write of OP (or,
for ``flush``, after the STOP_AT-th table/arena reset), so the lock is held
and the shared state is half changed. The test then SIGKILLs it. If OP
finishes before reaching STOP_AT, the process prints "completed" and exits 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from asgi_ipc import _alloc, _journal, _table
from asgi_ipc.core import IPCChannelLayer

PREFIX, OP, STOP_AT = sys.argv[1], sys.argv[2], int(sys.argv[3])
armed = False
seen = 0


def tick() -> None:
    global seen
    if armed:
        seen += 1
        if seen == STOP_AT:
            os.kill(os.getpid(), signal.SIGSTOP)


def patch(cls: type, name: str, before: bool = False) -> None:
    original = getattr(cls, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)
        tick()
        return result

    setattr(cls, name, wrapper)


if OP == "flush":
    patch(_table.NameTable, "reset")
    patch(_alloc.Buddy, "reset")
else:
    patch(_journal.Journal, "write")


async def main() -> None:
    global armed
    layer = IPCChannelLayer(prefix=PREFIX, message_memory=1 << 20, group_memory=1 << 18)
    await layer.new_channel()  # attach before arming: only OP is interrupted
    layer.check_integrity()
    armed = True
    if OP == "send":
        await layer.send("crash.queue", {"n": "new"})
    elif OP == "receive":
        await layer.receive("crash.queue")
    elif OP == "group_add":
        await layer.group_add("crash.group", "crash.member3")
    elif OP == "group_discard":
        await layer.group_discard("crash.group", "crash.member1")
    elif OP == "group_send":
        await layer.group_send("crash.group", {"n": "group"})
    elif OP == "flush":
        await layer.flush()
    else:
        raise SystemExit(f"unknown op {OP!r}")
    armed = False
    print("completed", flush=True)
    await layer.close()


asyncio.run(main())
