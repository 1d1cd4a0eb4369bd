"""Segment lifecycle: file modes, what flush and close remove, attach races."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from asgi_ipc.core import IPCChannelLayer

Names = Callable[[str], list[str]]


def mode_of(name: str) -> int:
    return stat.S_IMODE(os.stat(Path("/dev/shm") / name).st_mode)


@pytest.fixture
def wide_umask() -> Iterator[None]:
    # A restrictive umask proves the configured mode is applied exactly.
    old = os.umask(0o077)
    yield
    os.umask(old)


async def test_segment_and_wake_fifo_are_0600_by_default(
    make_layer: Callable[..., IPCChannelLayer], prefix: str, names_of: Names
) -> None:
    layer = make_layer()
    await layer.send("mode.check", {"a": 1})
    names = names_of(prefix)
    assert f"asgi_ipc.{prefix}" in names
    assert any(".w." in name for name in names)  # the wake-up FIFO
    assert {name: mode_of(name) for name in names} == dict.fromkeys(names, 0o600)


@pytest.mark.usefixtures("wide_umask")
async def test_configured_mode_is_applied_despite_the_umask(
    make_layer: Callable[..., IPCChannelLayer], prefix: str, names_of: Names
) -> None:
    layer = make_layer(mode=0o660)
    await layer.send("mode.check", {"a": 1})
    names = names_of(prefix)
    assert {name: mode_of(name) for name in names} == dict.fromkeys(names, 0o660)


async def test_close_of_the_last_client_removes_everything(
    make_layer: Callable[..., IPCChannelLayer], prefix: str, names_of: Names
) -> None:
    first, second = make_layer(), make_layer()
    await first.send("life.a", {"a": 1})
    await second.group_add("life.g", "life.a")
    assert len(names_of(prefix)) == 3  # one segment, one wake-up FIFO per client
    await first.close()
    # Another client is attached: the segment and its data stay.
    assert f"asgi_ipc.{prefix}" in names_of(prefix)
    assert len(names_of(prefix)) == 2
    assert await second.receive("life.a") == {"a": 1}
    await second.close()
    assert names_of(prefix) == []


async def test_flush_empties_channels_and_groups_for_every_client(
    make_layer: Callable[..., IPCChannelLayer],
) -> None:
    first, second = make_layer(), make_layer()
    await first.send("flush.a", {"a": 1})
    await first.group_add("flush.g", "flush.b")
    await second.flush()
    stats = first.check_integrity()
    assert (stats["messages"], stats["memberships"]) == (0, 0)
    await second.group_send("flush.g", {"b": 1})
    assert first.check_integrity()["messages"] == 0


async def test_flush_wakes_a_blocked_receiver_which_then_gets_later_messages(
    make_layer: Callable[..., IPCChannelLayer],
) -> None:
    # Regression: a flush dropped the waiter marks, stranding blocked receivers.
    receiver, other = make_layer(), make_layer()
    channel = await receiver.new_channel()
    waiting = asyncio.create_task(receiver.receive(channel))
    await asyncio.sleep(0.1)
    await other.flush()
    await asyncio.sleep(0.1)
    await other.send(channel, {"after": "flush"})
    assert await asyncio.wait_for(waiting, 10) == {"after": "flush"}


async def test_reopening_after_close_creates_a_fresh_segment(
    make_layer: Callable[..., IPCChannelLayer], prefix: str, names_of: Names
) -> None:
    layer = make_layer()
    await layer.send("reopen.a", {"a": 1})
    await layer.close()
    assert names_of(prefix) == []
    await layer.send("reopen.a", {"a": 2})
    assert await layer.receive("reopen.a") == {"a": 2}


async def test_clients_of_dead_processes_are_reclaimed(
    make_layer: Callable[..., IPCChannelLayer], prefix: str, names_of: Names, python: str
) -> None:
    layer = make_layer()
    await layer.send("reclaim.a", {"a": 1})
    script = (
        "import asyncio, os, sys\n"
        "from asgi_ipc.core import IPCChannelLayer\n"
        "async def main():\n"
        f"    layer = IPCChannelLayer(prefix={prefix!r}, message_memory=1 << 20,"
        " group_memory=1 << 18)\n"
        "    await layer.send('reclaim.b', {'b': 1})\n"
        "    os._exit(0)\n"
        "asyncio.run(main())\n"
    )
    proc = await asyncio.create_subprocess_exec(python, "-c", script)
    assert await proc.wait() == 0
    assert len(names_of(prefix)) == 3  # the dead client's FIFO is left behind
    make_layer()  # a new client reclaims dead slots when it registers
    await make_layer().send("reclaim.c", {"c": 1})
    assert len(names_of(prefix)) == 3  # segment + this layer's + the new layer's
    assert await layer.receive("reclaim.b") == {"b": 1}


def test_a_client_attaching_while_the_last_one_closes_is_never_stranded(prefix: str) -> None:
    # Regression: a client attached, then registered in a second lock hold;
    # the last client could unlink the segment in between, leaving the new
    # one alone on a dead segment that no later process would ever see.
    kwargs = {"prefix": prefix, "message_memory": 1 << 20, "group_memory": 1 << 18}
    for round_ in range(150):
        closing = IPCChannelLayer(**kwargs)
        asyncio.run(closing.send("race.warm", {}))
        joining = IPCChannelLayer(**kwargs)
        barrier = threading.Barrier(2)

        def close_it(
            layer: IPCChannelLayer = closing, barrier: threading.Barrier = barrier
        ) -> None:
            barrier.wait()
            asyncio.run(layer.close())

        thread = threading.Thread(target=close_it)
        thread.start()
        barrier.wait()
        asyncio.run(joining.send("race.probe", {"round": round_}))
        thread.join()
        observer = IPCChannelLayer(**kwargs)

        async def observe(layer: IPCChannelLayer = observer) -> dict[str, object]:
            return await asyncio.wait_for(layer.receive("race.probe"), 10)

        assert asyncio.run(observe()) == {"round": round_}
        for layer in (joining, observer):
            asyncio.run(layer.flush())
            asyncio.run(layer.close())


async def test_a_flush_by_another_client_also_drops_messages_buffered_locally(
    make_layer: Callable[..., IPCChannelLayer],
) -> None:
    # Regression: messages already moved into a process's local buffers
    # survived a flush made by another process.
    receiver, flusher = make_layer(), make_layer()
    first, second = await receiver.new_channel(), await receiver.new_channel()
    await flusher.send(second, {"n": "old"})
    await flusher.send(first, {"n": 1})
    assert await receiver.receive(first) == {"n": 1}  # buffers second's message
    await flusher.flush()
    await flusher.send(second, {"n": "new"})
    assert await receiver.receive(second) == {"n": "new"}


async def test_a_forked_child_attaches_as_a_client_of_its_own(
    make_layer: Callable[..., IPCChannelLayer],
) -> None:
    # The child inherits the parent's descriptors, and flock is shared per
    # open file: using the parent's attachment would void mutual exclusion.
    layer = make_layer()
    await layer.send("fork.warm", {})
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() when other threads exist (pytest's
        # or earlier tests'); this child only runs the layer, then _exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            asyncio.run(layer.send("fork.from_child", {"pid": os.getpid()}))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert await layer.receive("fork.from_child") == {"pid": pid}
    assert await layer.receive("fork.warm") == {}
    layer.check_integrity()
