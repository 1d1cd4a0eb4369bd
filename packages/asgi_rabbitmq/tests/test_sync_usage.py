"""The layer used from plain threads through async_to_sync, and after its tasks are cancelled.

asgiref runs async_to_sync calls from plain threads on one long-lived loop and cancels the
tasks a call leaves behind when it returns. The layer's background work (connection, its
supervisor, consumers, acknowledgements) must survive that, and any other cancellation of it
must end in a rebuilt link, with nothing lost or delivered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgi_rabbitmq.core import BrokerUnavailable, RabbitmqChannelLayer
from asgiref.sync import async_to_sync

Factory = Callable[..., RabbitmqChannelLayer]

_WAIT = 10.0


async def _receive(layer: RabbitmqChannelLayer, channel: str) -> Any:
    return await asyncio.wait_for(layer.receive(channel), _WAIT)


async def _nothing_arrives(layer: RabbitmqChannelLayer, channel: str) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), 0.5)
    except asyncio.TimeoutError:
        return True
    return False


@pytest.fixture
def sync_layer(prefix: str, broker: str) -> Iterator[RabbitmqChannelLayer]:
    layer = RabbitmqChannelLayer(broker, prefix=prefix)
    yield layer
    async_to_sync(layer.flush)()
    async_to_sync(layer.close)()


def _in_thread(target: Callable[[], None]) -> threading.Thread:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # re-raised in the test's thread by _join
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def _join(*threads: threading.Thread) -> None:
    # The threads call receive() without a timeout, as application code does; a stuck
    # one is reported here (and left behind as a daemon thread).
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive(), "a thread using the layer is stuck"
        errors: list[BaseException] = thread.errors  # type: ignore[attr-defined]
        if errors:
            raise errors[0]


def test_one_connection_serves_every_sync_call(sync_layer: RabbitmqChannelLayer) -> None:
    # Delivery across repeated sync calls is the conformance suite's
    # (test_sync_group_calls_reach_each_kind_of_channel_once); here: the calls' ends
    # do not tear the connection down.
    layer = sync_layer
    links: list[Any] = []

    async def current_link() -> Any:
        return layer._links[asyncio.get_running_loop()]

    def work() -> None:
        channel = async_to_sync(layer.new_channel)()
        for n in range(3):
            async_to_sync(layer.send)(channel, {"type": "m", "n": n})
            assert async_to_sync(_receive)(layer, channel)["n"] == n
            links.append(async_to_sync(current_link)())
        # Checked in the thread: its loop (and the loop's connection) ends with it.
        usable.append(links[-1].usable())

    usable: list[bool] = []
    _join(_in_thread(work))
    assert len(set(map(id, links))) == 1 and usable == [True]


@pytest.mark.parametrize("kind", ["process-local", "normal"])
def test_send_in_one_thread_receive_in_another(sync_layer: RabbitmqChannelLayer, kind: str) -> None:
    layer = sync_layer
    channel = async_to_sync(layer.new_channel)() if kind == "process-local" else "sync.pair"
    got: list[Any] = []

    def sender() -> None:
        for n in range(5):
            async_to_sync(layer.send)(channel, {"type": "m", "n": n})

    def receiver() -> None:
        for _ in range(5):
            got.append(async_to_sync(layer.receive)(channel)["n"])

    receiving = _in_thread(receiver)
    _join(_in_thread(sender), receiving)
    assert got == [0, 1, 2, 3, 4]
    assert async_to_sync(_nothing_arrives)(layer, channel)


def test_normal_channel_between_a_producer_thread_and_a_worker_thread(
    prefix: str, broker: str
) -> None:
    # As a web process and a `runworker` process would: two layer objects, each used
    # only through async_to_sync from its own plain thread.
    producer = RabbitmqChannelLayer(broker, prefix=prefix)
    worker = RabbitmqChannelLayer(broker, prefix=prefix)
    done: list[int] = []

    def produce() -> None:
        for n in range(6):
            async_to_sync(producer.send)("sync.jobs", {"type": "job", "n": n})

    def consume() -> None:
        while len(done) < 6:
            done.append(async_to_sync(worker.receive)("sync.jobs")["n"])

    try:
        _join(_in_thread(produce), _in_thread(consume))
        assert done == [0, 1, 2, 3, 4, 5]
        assert async_to_sync(_nothing_arrives)(worker, "sync.jobs")
    finally:
        async_to_sync(producer.flush)()
        async_to_sync(worker.close)()
        async_to_sync(producer.close)()


def _kill_supervisor(layer: RabbitmqChannelLayer, loop: asyncio.AbstractEventLoop) -> None:
    supervisor = layer._links[loop]._supervisor
    assert supervisor is not None and not supervisor.done()
    supervisor.cancel()


async def test_pending_receives_survive_a_cancelled_supervisor(make_layer: Factory) -> None:
    layer = make_layer()
    local = await layer.new_channel()
    await layer.send("sync.killed", {"n": "warm-up"})
    assert (await _receive(layer, "sync.killed"))["n"] == "warm-up"
    waiting = [asyncio.ensure_future(_receive(layer, name)) for name in (local, "sync.killed")]
    await asyncio.sleep(0.2)  # both receives are waiting on their consumers
    _kill_supervisor(layer, asyncio.get_running_loop())
    await asyncio.sleep(0)
    await layer.send(local, {"n": "local"})
    await layer.send("sync.killed", {"n": "normal"})
    assert [(await task)["n"] for task in waiting] == ["local", "normal"]


async def test_a_prefetched_message_is_delivered_once_after_the_link_dies(
    make_layer: Factory,
) -> None:
    layer = make_layer()
    for n in range(2):
        await layer.send("sync.held", {"n": n})
    assert (await _receive(layer, "sync.held"))["n"] == 0
    # The consumer has taken n=1 from the broker, unacknowledged, into the local buffer.
    for _ in range(100):
        if layer.inbox.buffered("sync.held"):
            break
        await asyncio.sleep(0.05)
    assert layer.inbox.buffered("sync.held") == 1
    _kill_supervisor(layer, asyncio.get_running_loop())
    await asyncio.sleep(0)
    assert (await _receive(layer, "sync.held"))["n"] == 1
    assert await _nothing_arrives(layer, "sync.held")


def test_sync_usage_recovers_after_the_shared_loop_lost_the_supervisor(
    sync_layer: RabbitmqChannelLayer,
) -> None:
    layer = sync_layer
    got: list[Any] = []

    async def kill() -> None:
        _kill_supervisor(layer, asyncio.get_running_loop())

    def work() -> None:
        channel = async_to_sync(layer.new_channel)()
        for n in range(3):
            async_to_sync(layer.send)(channel, {"n": n})
            async_to_sync(layer.send)("sync.after", {"n": n})
            got.append(async_to_sync(layer.receive)(channel)["n"])
            got.append(async_to_sync(layer.receive)("sync.after")["n"])
            async_to_sync(kill)()

    _join(_in_thread(work))
    assert got == [0, 0, 1, 1, 2, 2]


async def test_a_pending_receive_survives_its_consumer_channel_closing(
    make_layer: Factory,
) -> None:
    layer = make_layer()
    await layer.send("sync.closed", {"n": 0})
    assert (await _receive(layer, "sync.closed"))["n"] == 0
    waiting = asyncio.ensure_future(_receive(layer, "sync.closed"))
    await asyncio.sleep(0.2)
    link = layer._links[asyncio.get_running_loop()]
    work = link.consumers._work
    assert work is not None
    await work.close()  # as a channel error would: its consumers are gone with it
    await layer.send("sync.closed", {"n": 1})
    assert (await waiting)["n"] == 1


async def test_cancelled_connection_tasks_end_in_a_new_connection(make_layer: Factory) -> None:
    # aiormq's own reader task (started when the connection opened) cancelled from outside.
    layer = make_layer()
    local = await layer.new_channel()
    await layer.send("sync.reader", {"n": 0})
    assert (await _receive(layer, "sync.reader"))["n"] == 0
    waiting = [asyncio.ensure_future(_receive(layer, name)) for name in (local, "sync.reader")]
    await asyncio.sleep(0.2)
    link = layer._links[asyncio.get_running_loop()]
    connection = link._connection
    assert connection is not None
    reader = connection.transport.connection._reader_task  # type: ignore[union-attr]
    reader.cancel()
    # A send cut off by it may be lost (as the specification allows) or fail with
    # BrokerUnavailable, but the reader's CancelledError never reaches a sender nobody
    # cancelled (it would end the sender's task silently).
    cut_errors: tuple[type[BaseException], ...] = (BrokerUnavailable,)
    if sys.version_info < (3, 11):
        # Known limitation: without Task.cancelling() a foreign CancelledError cannot be
        # told from the sender's own cancellation, so on 3.10 it reaches the sender.
        cut_errors += (asyncio.CancelledError,)
    with contextlib.suppress(*cut_errors):
        await layer.send("sync.cut", {"n": "cut"})
    for _ in range(200):
        if link._connection is not connection and link.usable():
            break
        await asyncio.sleep(0.05)
    assert link._connection is not connection and link.usable()
    await layer.send(local, {"n": "local"})
    await layer.send("sync.reader", {"n": 1})
    assert [(await task)["n"] for task in waiting] == ["local", 1]
