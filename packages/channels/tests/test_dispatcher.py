"""The dispatch loop against a client that behaves like a real ASGI server.

After a disconnect, servers answer every further ``receive()`` with another disconnect (daphne
and uvicorn both do; the spec allows it). The in-memory communicator does not, which hid two
bugs: each repeated disconnect interrupted the handler of the one before, so ``disconnect()``
could be cancelled over and over until the server's close timeout; and cancelling the loop
while it waited for an interrupted handler was swallowed.
"""

from __future__ import annotations

import asyncio

import pytest
from channels._dispatcher import DispatchLoop
from channels.exceptions import StopConsumer


class Client:
    """``receive()`` of a server: the given messages, then ``final`` on every later call."""

    def __init__(self, *messages: dict, final: dict, delay: float = 0.0) -> None:
        self.messages = list(messages)
        self.final = final
        self.delay = delay
        self.reads = 0

    async def receive(self) -> dict:
        self.reads += 1
        if self.messages:
            return self.messages.pop(0)
        await asyncio.sleep(self.delay)
        return self.final


def http_loop(sources, handler) -> DispatchLoop:
    """The loop as an HTTP consumer sets it up."""
    return DispatchLoop(
        sources, handler, interrupt_types={"http.disconnect"}, final_types={"http.disconnect"}
    )


async def test_repeated_disconnects_do_not_interrupt_the_disconnect_handler():
    client = Client({"type": "http.request"}, final={"type": "http.disconnect"}, delay=0.05)
    finished: list[str] = []

    async def handler(message: dict) -> None:
        if message["type"] == "http.request":
            await asyncio.Event().wait()  # a streaming response, until interrupted
        else:
            await asyncio.sleep(0.05)  # disconnect() doing some work
            finished.append(message["type"])
            raise StopConsumer()

    loop = http_loop([client.receive], handler)
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(loop.run(), 5)
    assert finished == ["http.disconnect"]
    assert client.reads == 2  # the request, then one disconnect: never read after it


async def test_a_disconnect_handler_that_returns_ends_the_loop_instead_of_spinning():
    client = Client({"type": "websocket.connect"}, final={"type": "websocket.disconnect"})
    handled: list[str] = []

    async def handler(message: dict) -> None:
        handled.append(message["type"])  # returns without StopConsumer

    loop = DispatchLoop([client.receive], handler, final_types={"websocket.disconnect"})
    await asyncio.wait_for(loop.run(), 5)
    assert handled == ["websocket.connect", "websocket.disconnect"]
    assert client.reads == 2


async def test_the_other_sources_are_still_read_after_a_client_disconnect():
    client = Client({"type": "websocket.connect"}, final={"type": "websocket.disconnect"})
    layer_messages = [{"type": "chat.message", "n": n} for n in range(3)]

    async def layer() -> dict:
        await asyncio.sleep(0.01)
        if not layer_messages:
            await asyncio.Event().wait()
        return layer_messages.pop(0)

    handled: list[str] = []

    async def handler(message: dict) -> None:
        handled.append(message["type"])
        if message["type"] == "chat.message" and message["n"] == 2:
            raise StopConsumer()

    with pytest.raises(StopConsumer):
        loop = DispatchLoop([client.receive, layer], handler, final_types={"websocket.disconnect"})
        await asyncio.wait_for(loop.run(), 5)
    assert handled.count("websocket.disconnect") == 1
    assert handled.count("chat.message") == 3
    assert client.reads == 2


async def test_layer_messages_never_end_a_source():
    # A worker's instance reads one channel: whatever type a message has, more may follow.
    messages = [{"type": "websocket.disconnect"}, {"type": "job.run"}]

    async def channel() -> dict:
        return messages.pop(0)

    handled: list[str] = []

    async def handler(message: dict) -> None:
        handled.append(message["type"])
        if message["type"] == "job.run":
            raise StopConsumer()

    with pytest.raises(StopConsumer):
        await asyncio.wait_for(DispatchLoop([channel], handler).run(), 5)
    assert handled == ["websocket.disconnect", "job.run"]


async def test_cancelling_the_loop_while_an_interrupted_handler_cleans_up_is_not_swallowed():
    client = Client({"type": "http.request"}, final={"type": "http.disconnect"}, delay=0.05)
    cleaning = asyncio.Event()

    async def handler(message: dict) -> None:
        if message["type"] == "http.request":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cleaning.set()
                await asyncio.sleep(0.3)  # slow cleanup of the interrupted handler
                raise
        else:
            raise StopConsumer()

    task = asyncio.ensure_future(http_loop([client.receive], handler).run())
    await asyncio.wait_for(cleaning.wait(), 5)
    task.cancel()  # e.g. the server's application close timeout
    done, _ = await asyncio.wait([task], timeout=5)
    assert done, "the loop did not stop"
    assert task.cancelled(), f"the cancellation was swallowed: {task!r}"


async def test_a_handler_error_raised_during_an_interrupt_still_propagates():
    client = Client({"type": "http.request"}, final={"type": "http.disconnect"}, delay=0.05)

    async def handler(message: dict) -> None:
        if message["type"] == "http.request":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise RuntimeError("cleanup failed") from None
        raise StopConsumer()

    loop = http_loop([client.receive], handler)
    with pytest.raises(RuntimeError, match="cleanup failed"):
        await asyncio.wait_for(loop.run(), 5)


async def test_in_the_default_mode_messages_ready_together_run_client_first():
    # Both reads finish before the loop looks; the client's message must still run first.
    seen: list[str] = []

    async def client() -> dict:
        if seen.count("websocket.receive"):
            await asyncio.Event().wait()
        return {"type": "websocket.receive"}

    async def layer() -> dict:
        if seen.count("chat.message") == 2:
            raise StopConsumer
        return {"type": "chat.message"}

    async def handler(message: dict) -> None:
        seen.append(message["type"])

    with pytest.raises(StopConsumer):
        await DispatchLoop([client, layer], handler).run()
    assert seen == ["websocket.receive", "chat.message", "chat.message"]


async def test_in_the_default_mode_cancelling_an_idle_loop_cancels_its_reads():
    reads: list[asyncio.Future[dict]] = []

    async def forever() -> dict:
        waiting = asyncio.get_running_loop().create_future()
        reads.append(waiting)
        return await waiting

    async def handler(message: dict) -> None:
        raise AssertionError(f"nothing was sent, yet {message} was handled")

    task = asyncio.ensure_future(DispatchLoop([forever, forever], handler).run())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(reads) == 2
    assert all(read.cancelled() for read in reads)
