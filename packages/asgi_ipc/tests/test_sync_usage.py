"""The layer used from plain threads through async_to_sync.

asgiref runs such calls on one long-lived loop and cancels the tasks a call leaves behind
when it returns; whatever the layer keeps per loop (its FIFO reader) must keep working from
call to call, with each message delivered once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from asgi_ipc.core import IPCChannelLayer
from asgiref.sync import async_to_sync


async def _nothing_arrives(layer: IPCChannelLayer, channel: str) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), 0.5)
    except asyncio.TimeoutError:
        return True
    return False


def _run_in_plain_thread(target: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    # receive() is called without a timeout, as application code does; a stuck thread is
    # reported here and left behind as a daemon.
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the thread using the layer is stuck"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("kind", ["process-local", "normal"])
def test_repeated_calls_from_a_plain_thread_deliver_each_message_once(
    prefix: str, kind: str
) -> None:
    layer = IPCChannelLayer(prefix=prefix, message_memory=1 << 20, group_memory=1 << 18)
    got: list[Any] = []
    leftover: list[bool] = []

    def work() -> None:
        channel = async_to_sync(layer.new_channel)() if kind == "process-local" else "sync.work"
        for n in range(3):
            async_to_sync(layer.group_add)("sync-group", channel)
            async_to_sync(layer.group_send)("sync-group", {"type": "m", "n": n})
            got.append(async_to_sync(layer.receive)(channel)["n"])
        leftover.append(async_to_sync(_nothing_arrives)(layer, channel))

    try:
        _run_in_plain_thread(work)
    finally:
        async_to_sync(layer.flush)()
        async_to_sync(layer.close)()
    assert got == [0, 1, 2]
    assert leftover == [True], "a message was delivered twice"
