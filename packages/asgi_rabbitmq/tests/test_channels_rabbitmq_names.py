"""The names and options code written for channels_rabbitmq 4 relies on, on the real broker."""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Callable

import aio_pika
import pytest
from asgi_rabbitmq import core
from asgi_rabbitmq._link import reconnect_delay
from asgi_rabbitmq.core import ChannelNotOwned, RabbitmqChannelLayer
from asgiref.layers import InvalidChannelLayerError, InvalidChannelName

Factory = Callable[..., RabbitmqChannelLayer]


async def test_groups_go_through_the_configured_groups_exchange(
    make_layer: Factory, broker: str
) -> None:
    exchange = f"t-groups-{secrets.token_hex(4)}"
    sender, receiver = make_layer(groups_exchange=exchange), make_layer(groups_exchange=exchange)
    channel = await receiver.new_channel()
    await receiver.group_add("room", channel)
    await sender.group_send("room", {"type": "hello"})
    assert await asyncio.wait_for(receiver.receive(channel), 10) == {"type": "hello"}
    connection = await aio_pika.connect(broker)
    async with connection:
        admin = await connection.channel()
        await admin.get_exchange(exchange, ensure=True)  # it exists on the broker
        await admin.exchange_delete(exchange)


def test_groups_exchange_defaults_to_the_prefix_and_is_checked() -> None:
    assert RabbitmqChannelLayer(prefix="p").config.groups_exchange == "p.groups"
    with pytest.raises(InvalidChannelLayerError, match="groups_exchange"):
        RabbitmqChannelLayer(groups_exchange="")


async def test_group_expiry_none_keeps_memberships_without_end(make_layer: Factory) -> None:
    layer = make_layer(group_expiry=None)
    assert layer.config.group_expiry == math.inf
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    await layer.group_send("room", {"type": "kept"})
    assert await asyncio.wait_for(layer.receive(channel), 10) == {"type": "kept"}


async def test_receiving_another_instances_channel_is_an_assertion_error(
    make_layer: Factory,
) -> None:
    mine, theirs = make_layer(), make_layer()
    channel = await theirs.new_channel()
    with pytest.raises(ChannelNotOwned) as raised:
        await mine.receive(channel)
    assert isinstance(raised.value, AssertionError)
    assert isinstance(raised.value, InvalidChannelName)


async def test_new_channel_with_an_empty_prefix_as_channels_rabbitmq_allows(
    make_layer: Factory,
) -> None:
    layer = make_layer()
    channel = await layer.new_channel("")
    await layer.send(channel, {"type": "x"})
    assert await asyncio.wait_for(layer.receive(channel), 10) == {"type": "x"}


def test_reconnect_delay_is_read_from_core_at_every_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert core.ReconnectDelay == 1.0 and reconnect_delay() == 1.0
    monkeypatch.setattr(core, "ReconnectDelay", 0.25)
    assert reconnect_delay() == 0.25
    monkeypatch.setattr(core, "ReconnectDelay", 0)
    assert reconnect_delay() == 1.0  # a nonsense value falls back to the default
