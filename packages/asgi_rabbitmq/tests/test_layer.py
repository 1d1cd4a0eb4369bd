"""Behaviour of RabbitmqChannelLayer on the real broker, beyond the conformance suite."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import aiormq.exceptions
import pytest
from asgi_rabbitmq._envelope import Kind, encode
from asgi_rabbitmq.core import BrokerUnavailable, RabbitmqChannelLayer
from asgiref.layers import ChannelFull, InvalidChannelLayerError, InvalidChannelName, InvalidMessage

Factory = Callable[..., RabbitmqChannelLayer]


async def _receive(layer: RabbitmqChannelLayer, channel: str, timeout: float = 10) -> Any:
    return await asyncio.wait_for(layer.receive(channel), timeout)


async def _nothing_arrives(layer: RabbitmqChannelLayer, channel: str) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.5)


async def _publish_raw(broker: str, queue: str, body: bytes) -> None:
    connection = await aio_pika.connect(broker)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(aio_pika.Message(body), queue)


async def _until_consumed(broker: str, *queues: str) -> None:
    """Return once every queue exists and has a consumer (a passive declare reports both)."""
    connection = await aio_pika.connect(broker)
    async with connection:
        pending = list(queues)
        while pending:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(pending[0], passive=True)
            except aiormq.exceptions.ChannelNotFoundEntity:
                pass  # not declared yet; the failed passive declare closed the channel
            else:
                result = declared.declaration_result
                if result.consumer_count:
                    pending.pop(0)
                await channel.close()
            await asyncio.sleep(0.05)


async def test_remote_capacity_makes_send_raise_channel_full(make_layer: Factory) -> None:
    sender, owner = make_layer(), make_layer(remote_capacity=3)
    channel = await owner.new_channel()  # declares the queue; nobody consumes it
    for n in range(3):
        await sender.send(channel, {"n": n})
    with pytest.raises(ChannelFull, match="remote_capacity"):
        await sender.send(channel, {"n": 3})
    # Nothing was lost by the refusal, and the sender keeps serving.
    assert [(await _receive(owner, channel))["n"] for _ in range(3)] == [0, 1, 2]
    await sender.send(channel, {"n": 4})
    assert (await _receive(owner, channel))["n"] == 4


async def test_local_capacity_bounds_own_channels(make_layer: Factory) -> None:
    layer = make_layer(local_capacity=2)
    channel = await layer.new_channel()
    await layer.send(channel, {"n": 0})
    await layer.send(channel, {"n": 1})
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"n": 2})
    assert (await _receive(layer, channel))["n"] == 0


async def test_full_local_buffer_drops_remote_messages_and_keeps_serving(
    make_layer: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    sender, owner = make_layer(), make_layer(local_capacity=2)
    busy, quiet = await owner.new_channel(), await owner.new_channel()
    waiting = asyncio.ensure_future(owner.receive(quiet))  # starts the consumer
    with caplog.at_level(logging.WARNING, logger="asgi_rabbitmq"):
        for n in range(5):
            await sender.send(busy, {"n": n})
        await sender.send(quiet, {"n": "quiet"})
        assert await asyncio.wait_for(waiting, 10) == {"n": "quiet"}
    assert [(await _receive(owner, busy))["n"] for _ in range(2)] == [0, 1]
    await _nothing_arrives(owner, busy)
    assert "local buffer is full" in caplog.text


async def test_group_add_of_another_layers_channel(make_layer: Factory) -> None:
    admin, owner = make_layer(), make_layer()
    first, second = await owner.new_channel(), await owner.new_channel()
    await admin.group_add("room", first)
    await owner.group_add("room", second)
    await admin.group_send("room", {"n": 1})
    assert await _receive(owner, first) == {"n": 1}
    assert await _receive(owner, second) == {"n": 1}
    # Discarding one member from outside keeps the process bound for the other.
    await admin.group_discard("room", first)
    await admin.group_send("room", {"n": 2})
    assert await _receive(owner, second) == {"n": 2}
    await _nothing_arrives(owner, first)


async def test_discarding_the_last_member_unbinds(make_layer: Factory) -> None:
    layer, sender = make_layer(), make_layer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.group_discard("g", channel)
    await layer.group_add("g", channel)  # rebinding after an unbind works
    await sender.group_send("g", {"n": 1})
    assert await _receive(layer, channel) == {"n": 1}
    await layer.group_discard("g", channel)
    await sender.group_send("g", {"n": 2})
    await _nothing_arrives(layer, channel)


async def test_normal_channels_in_groups(make_layer: Factory) -> None:
    layer, worker = make_layer(), make_layer()
    await layer.group_add("jobs-group", "jobs.a")
    await layer.group_add("jobs-group", "jobs.b")
    await layer.group_send("jobs-group", {"n": 1})
    assert await _receive(worker, "jobs.a") == {"n": 1}
    assert await _receive(worker, "jobs.b") == {"n": 1}
    await layer.group_discard("jobs-group", "jobs.b")
    await layer.group_send("jobs-group", {"n": 2})
    assert await _receive(worker, "jobs.a") == {"n": 2}
    await _nothing_arrives(worker, "jobs.b")


async def test_foreign_bodies_on_the_process_queue_are_dropped(
    make_layer: Factory, broker: str, caplog: pytest.LogCaptureFixture
) -> None:
    layer, sender = make_layer(), make_layer()
    channel = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(channel))
    with caplog.at_level(logging.ERROR, logger="asgi_rabbitmq"):
        await _publish_raw(broker, layer.process_queue, b"\xffnot framed")
        # A membership note naming a group that is not a valid group name.
        await _publish_raw(broker, layer.process_queue, encode(Kind.JOIN, channel, b"\xff!"))
        # Framed, but the payload is not msgpack: receive skips it.
        await _publish_raw(broker, layer.process_queue, encode(Kind.DIRECT, channel, b"\xc1"))
        await sender.send(channel, {"n": "good"})
        assert await asyncio.wait_for(waiting, 10) == {"n": "good"}
    assert "did not frame" in caplog.text
    assert "could not be handled" in caplog.text
    assert "undecodable" in caplog.text


async def test_invalid_input_raises_and_sends_nothing(make_layer: Factory) -> None:
    layer = make_layer()
    channel = await layer.new_channel()
    with pytest.raises(InvalidMessage):
        await layer.send(channel, {"bad": object()})
    with pytest.raises(InvalidMessage):
        await layer.group_send("g", {1: "non-str key"})  # type: ignore[dict-item]
    with pytest.raises(InvalidChannelName):
        await layer.send("bad name", {})
    await layer.send(channel, {"n": "after"})
    assert await _receive(layer, channel) == {"n": "after"}


async def test_receive_on_another_layers_channel_is_refused(make_layer: Factory) -> None:
    mine, theirs = make_layer(), make_layer()
    channel = await theirs.new_channel()
    with pytest.raises(InvalidChannelName, match="belongs to another layer"):
        await mine.receive(channel)
    with pytest.raises(InvalidChannelName, match="ends at its '!'"):
        await mine.receive(channel[: channel.index("!") + 1])


async def test_mismatched_queue_settings_name_both_sides(make_layer: Factory) -> None:
    small, large = make_layer(capacity=5), make_layer(capacity=50)
    await small.send("shared.queue", {"n": 1})
    with pytest.raises(InvalidChannelLayerError, match=r"x-max-length.*received .50."):
        await large.send("shared.queue", {"n": 2})
    # The failed declaration closed only the admin channel: the layer recovers.
    await large.send("other.queue", {"n": 3})
    assert await _receive(large, "other.queue") == {"n": 3}


async def test_flush_empties_queues_and_groups(make_layer: Factory) -> None:
    layer = make_layer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.send("flush.me", {"n": 1})
    await layer.send(channel, {"n": 1})
    await layer.flush()
    await layer.group_send("g", {"n": 2})
    await _nothing_arrives(layer, "flush.me")
    await _nothing_arrives(layer, channel)


async def test_unreachable_broker_fails_loudly(prefix: str) -> None:
    layer = RabbitmqChannelLayer(
        "amqp://guest:guest@127.0.0.1:1/%2F", prefix=prefix, connect_timeout=2
    )
    with pytest.raises(BrokerUnavailable, match=r"rabbitmq-server -detached"):
        await layer.new_channel()
    await layer.close()


async def test_layer_is_usable_again_after_close(make_layer: Factory) -> None:
    layer = make_layer()
    await layer.send("reuse.q", {"n": 1})
    await layer.close()
    assert await _receive(layer, "reuse.q") == {"n": 1}


async def test_a_failed_first_connection_is_retried_on_the_next_call(
    prefix: str, broker: str
) -> None:
    # A TCP relay in front of the real broker, started only after the layer's
    # first attempt failed on the same address.
    parts = urlsplit(broker)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = broker.replace(f"{parts.hostname}:{parts.port or 5672}", f"127.0.0.1:{port}")
    layer = RabbitmqChannelLayer(url, prefix=prefix, connect_timeout=2)
    with pytest.raises(BrokerUnavailable):
        await layer.new_channel()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(
            parts.hostname or "127.0.0.1", parts.port or 5672
        )

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(relay, "127.0.0.1", port)
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"n": 1})
        assert await _receive(layer, channel) == {"n": 1}
        await layer.flush()
    finally:
        await layer.close()
        server.close()
        await server.wait_closed()


async def test_group_send_survives_a_deleted_groups_exchange(
    make_layer: Factory, broker: str
) -> None:
    layer = make_layer()
    channel = await layer.new_channel()
    connection = await aio_pika.connect(broker)
    async with connection:
        admin = await connection.channel()
        await admin.exchange_delete(layer.config.groups_exchange)
    # Publishing to the missing exchange closes the publisher channel on the
    # broker; the layer restores both and keeps serving.
    await layer.group_send("g", {"n": 1})
    await layer.group_add("g", channel)
    await layer.group_send("g", {"n": 2})
    assert await _receive(layer, channel) == {"n": 2}
    other = make_layer()
    other_channel = await other.new_channel()
    await layer.send(other_channel, {"n": 3})
    assert await _receive(other, other_channel) == {"n": 3}


async def test_send_redeclares_a_normal_queue_that_vanished(
    make_layer: Factory, broker: str
) -> None:
    # The broker deletes idle queues (x-expires); a sender that declared the
    # queue earlier gets its message back as unroutable and declares it again.
    layer = make_layer()
    await layer.send("vanishing", {"n": 1})
    connection = await aio_pika.connect(broker)
    async with connection:
        admin = await connection.channel()
        await admin.queue_delete(layer.config.normal_queue("vanishing"))
    await layer.send("vanishing", {"n": 2})
    assert await _receive(layer, "vanishing") == {"n": 2}


async def test_a_sender_declares_its_queue_again_before_the_broker_could_expire_it(
    make_layer: Factory, broker: str
) -> None:
    # Publishing does not reset a queue's x-expires timer; declaring does. A
    # re-declaration is observable: it fails against a queue that was swapped
    # for one with other arguments.
    layer = make_layer()
    await layer.send("kept.alive", {"n": 1})
    link = layer._links[asyncio.get_running_loop()]
    connection = await aio_pika.connect(broker)
    async with connection:
        admin = await connection.channel()
        name = layer.config.normal_queue("kept.alive")
        await admin.queue_delete(name)
        await admin.declare_queue(name, auto_delete=True, arguments={"x-max-length": 5})
        await layer.send("kept.alive", {"n": 2})  # recently declared: no declaration
        now = link.clock()
        link.clock = lambda: now + layer.config.queue_expiry / 4 + 1
        with pytest.raises(InvalidChannelLayerError, match="inequivalent arg"):
            await layer.send("kept.alive", {"n": 3})
        await admin.queue_delete(name)


async def test_deleted_queues_are_recreated_for_pending_receives(
    make_layer: Factory, broker: str
) -> None:
    # The broker cancels consumers of a deleted queue; the layer re-creates the
    # queue, re-binds its groups and consumes again, so waiting receives live on.
    layer, sender = make_layer(), make_layer()
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    local = asyncio.ensure_future(layer.receive(channel))
    normal = asyncio.ensure_future(layer.receive("recreated.jobs"))
    # Deleting a queue before its consumer is registered tests nothing (and, between the
    # layer's declare and consume, breaks the receive): wait until the broker counts both
    # consumers rather than for a fixed time, which a loaded machine can outlast.
    await asyncio.wait_for(
        _until_consumed(broker, layer.process_queue, layer.config.normal_queue("recreated.jobs")),
        30,
    )
    connection = await aio_pika.connect(broker)
    async with connection:
        admin = await connection.channel()
        await admin.queue_delete(layer.process_queue)
        await admin.queue_delete(layer.config.normal_queue("recreated.jobs"))
    await sender.send("recreated.jobs", {"n": "job"})
    assert await asyncio.wait_for(normal, 30) == {"n": "job"}

    async def until_received() -> None:
        # Group messages sent before the queue is back and bound are lost.
        while not local.done():
            await sender.group_send("room", {"n": "group"})
            await asyncio.wait({local}, timeout=0.2)

    await asyncio.wait_for(until_received(), 30)
    assert local.result() == {"n": "group"}


async def test_group_members_with_full_buffers_are_skipped_with_one_log_line(
    make_layer: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    sender, owner = make_layer(), make_layer(local_capacity=1)
    full = [await owner.new_channel() for _ in range(3)]
    free = await owner.new_channel()
    for channel in [*full, free]:
        await owner.group_add("crowd", channel)
    for channel in full:
        await owner.send(channel, {"n": "filler"})  # own channels: straight into the buffer
    waiting = asyncio.ensure_future(owner.receive(free))
    with caplog.at_level(logging.WARNING, logger="asgi_rabbitmq"):
        await sender.group_send("crowd", {"n": "crowd"})
        assert await asyncio.wait_for(waiting, 10) == {"n": "crowd"}
    drops = [r for r in caplog.records if "full local buffer" in r.getMessage()]
    assert len(drops) == 1 and "3 member(s)" in drops[0].getMessage()
    for channel in full:
        assert await _receive(owner, channel) == {"n": "filler"}


async def test_close_deletes_the_process_queue(
    make_layer: Factory, broker: str, caplog: pytest.LogCaptureFixture
) -> None:
    layer = make_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"n": 1})
    assert await _receive(layer, channel) == {"n": 1}  # a consumer is running
    with caplog.at_level(logging.WARNING):
        await layer.close()
        await asyncio.sleep(0.2)
    # Our consumer was cancelled by us, not by the broker, and did not bring
    # the queue back.
    assert "cancelled by the broker" not in caplog.text
    connection = await aio_pika.connect(broker)
    async with connection:
        admin = await connection.channel()
        with pytest.raises(aiormq.exceptions.ChannelNotFoundEntity):
            await admin.declare_queue(layer.process_queue, passive=True)
