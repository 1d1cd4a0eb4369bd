"""A process SIGKILLed while it holds the lock, at every point of an operation.

For each operation and each N, a peer process stops itself after the N-th
logged write (lock held, change half applied); the test checks that the lock
is indeed held, SIGKILLs the peer, and then checks that this process carries
on: the lock is taken again, the shared structures verify, and the state is
exactly as before the interrupted operation (or, for group_send, each member
got the message at most once).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asgi_ipc.core import IPCChannelLayer, LockTimeout

PEER = Path(__file__).parent / "helpers" / "crash_peer.py"

MEMBERS = ["crash.member0", "crash.member1", "crash.member2"]


async def seed(layer: IPCChannelLayer) -> None:
    for n in range(3):
        await layer.send("crash.queue", {"n": n})
    for member in MEMBERS:
        await layer.group_add("crash.group", member)


def lock_is_held(prefix: str) -> bool:
    fd = os.open(f"/dev/shm/asgi_ipc.{prefix}", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def run_peer(python: str, prefix: str, op: str, stop_at: int) -> bool:
    """Run the peer; return False if it completed without reaching *stop_at*."""
    proc = subprocess.Popen(
        [python, str(PEER), prefix, op, str(stop_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    if os.WIFSTOPPED(status):
        assert lock_is_held(prefix), "the peer stopped mid-operation but did not hold the lock"
        os.kill(proc.pid, signal.SIGKILL)
        os.waitpid(proc.pid, 0)
        proc.returncode = -9
        proc.communicate()
        return True
    out, err = proc.communicate()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, err.decode()
    assert out.decode().strip() == "completed", (out, err)
    return False


async def drain(layer: IPCChannelLayer, channel: str, count: int) -> list[Any]:
    return [(await asyncio.wait_for(layer.receive(channel), 10))["n"] for _ in range(count)]


async def check_rolled_back(layer: IPCChannelLayer, op: str) -> None:
    stats = layer.check_integrity()
    if op == "flush":
        # A flush cut short is redone by the next lock holder.
        assert (stats["messages"], stats["memberships"]) == (0, 0)
        return
    assert await drain(layer, "crash.queue", 3) == [0, 1, 2]
    if op == "group_send":
        # Each member's delivery is atomic and members are served in order.
        delivered = stats["messages"] - 3
        assert 0 <= delivered < len(MEMBERS)
        for member in MEMBERS[:delivered]:
            assert await drain(layer, member, 1) == ["group"]
        assert layer.check_integrity()["messages"] == 0
        return
    assert stats["messages"] == 3
    assert stats["memberships"] == len(MEMBERS)
    await layer.group_send("crash.group", {"n": "probe"})
    for member in MEMBERS:
        assert await drain(layer, member, 1) == ["probe"]


@pytest.mark.parametrize(
    "op", ["send", "receive", "group_add", "group_discard", "group_send", "flush"]
)
async def test_sigkill_while_holding_the_lock(
    op: str, make_layer: Callable[..., IPCChannelLayer], prefix: str, python: str
) -> None:
    layer = make_layer(lock_timeout=5)
    stops = 0
    for stop_at in range(1, 500):
        await layer.flush()
        await seed(layer)
        if not run_peer(python, prefix, op, stop_at):
            break
        stops += 1
        layer.check_integrity()
        await check_rolled_back(layer, op)
        layer.check_integrity()
    assert stops > 0, f"{op} was never interrupted; the peer did not reach its first write"
    print(f"{op}: interrupted at each of {stops} points")
    # After every crash the layer still serves normally.
    await layer.send("after.crash", {"n": "ok"})
    assert (await layer.receive("after.crash")) == {"n": "ok"}


async def test_a_stopped_live_holder_gives_lock_timeout_naming_it(
    make_layer: Callable[..., IPCChannelLayer], prefix: str, python: str
) -> None:
    layer = make_layer(lock_timeout=0.2)
    await layer.flush()
    await seed(layer)
    proc = subprocess.Popen([python, str(PEER), prefix, "send", "1"])
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)
        # A live holder is never robbed of the lock: this process waits, then
        # reports who holds it instead of hanging.
        with pytest.raises(LockTimeout, match=f"live pid {proc.pid}"):
            await layer.send("crash.queue", {"n": "blocked"})
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        os.waitpid(proc.pid, 0)
        proc.returncode = -9
    await layer.send("crash.queue", {"n": 3})
    assert await drain(layer, "crash.queue", 4) == [0, 1, 2, 3]
