"""Encryption (with key rotation) and serializers, against the shared Redis."""

from __future__ import annotations

import datetime
import decimal
import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgi_redis.core import RedisChannelLayer
from asgi_redis.exceptions import MessageDecryptionError
from asgi_redis.serializers import DjangoMsgPackSerializer
from asgiref.layers import InvalidChannelLayerError, InvalidMessage

Make = Callable[..., Awaitable[RedisChannelLayer]]


@pytest.fixture
def topology(redis_url: str) -> dict[str, Any]:
    return {"hosts": [redis_url]}


@pytest.fixture
def make(layers: Any) -> Make:
    return functools.partial(layers, RedisChannelLayer)


async def test_encrypted_round_trip_is_not_readable_in_redis(make: Make) -> None:
    layer = await make(symmetric_encryption_keys=["first-secret"])
    await layer.send("test.secret", {"type": "s", "text": "plaintext-marker"})
    state = layer._get_layer()
    stored = await state.shards[0].redis.lrange(f"{layer.prefix}:c:test.secret", 0, -1)
    assert stored and b"plaintext-marker" not in stored[0]
    assert await layer.receive("test.secret") == {"type": "s", "text": "plaintext-marker"}


async def test_key_rotation(make: Make) -> None:
    old = await make(symmetric_encryption_keys=["old-key"])
    rotated = await make(symmetric_encryption_keys=["new-key", "old-key"])
    await old.send("test.rotate", {"type": "from-old"})
    assert await rotated.receive("test.rotate") == {"type": "from-old"}
    await rotated.send("test.rotate", {"type": "from-new"})
    assert await rotated.receive("test.rotate") == {"type": "from-new"}
    # The old configuration cannot read what the new first key encrypted.
    await rotated.send("test.rotate", {"type": "new-only"})
    with pytest.raises(MessageDecryptionError, match=r"test\.rotate"):
        await old.receive("test.rotate")


async def test_unknown_key_is_rejected_clearly_and_next_message_flows(make: Make) -> None:
    stranger = await make(symmetric_encryption_keys=["someone-else"])
    receiver = await make(symmetric_encryption_keys=["ours"])
    await stranger.send("test.unknown", {"type": "bad"})
    await receiver.send("test.unknown", {"type": "good"})
    with pytest.raises(MessageDecryptionError, match="could not be decrypted"):
        await receiver.receive("test.unknown")
    assert await receiver.receive("test.unknown") == {"type": "good"}


async def test_unencrypted_message_to_encrypted_layer_is_rejected(make: Make) -> None:
    plain = await make()
    receiver = await make(symmetric_encryption_keys=["ours"])
    await plain.send("test.plain", {"type": "bad"})
    with pytest.raises(MessageDecryptionError):
        await receiver.receive("test.plain")


@pytest.mark.parametrize("keys", [[], "a-string", [""], [42]])
def test_bad_key_configuration(keys: Any) -> None:
    with pytest.raises(InvalidChannelLayerError, match="symmetric_encryption_keys"):
        RedisChannelLayer(symmetric_encryption_keys=keys)


@pytest.mark.parametrize("serializer", ["msgpack", "json"])
async def test_unserializable_value_fails_at_send_naming_the_key(
    make: Make, serializer: str
) -> None:
    layer = await make(serializer_format=serializer)
    with pytest.raises(InvalidMessage, match=r"message\['when'\]"):
        await layer.send("test.ser", {"type": "x", "when": datetime.datetime.now()})
    await layer.send("test.ser", {"type": "x", "raw": b"\x00\x01", "n": [1, 2.5, None]})
    assert await layer.receive("test.ser") == {"type": "x", "raw": b"\x00\x01", "n": [1, 2.5, None]}


async def test_django_serializer_round_trips_rich_values(make: Make) -> None:
    layer = await make(serializer_format="django")
    message = {
        "type": "rich",
        "at": datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2024, 5, 1),
        "clock": datetime.time(8, 15, 30),
        "span": datetime.timedelta(days=1, microseconds=7),
        "price": decimal.Decimal("19.99"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "nested": [{"again": decimal.Decimal("0.1")}],
    }
    await layer.send("test.rich", message)
    assert await layer.receive("test.rich") == message


def test_django_serializer_names_the_bad_value() -> None:
    with pytest.raises(InvalidMessage, match=r"message\['x'\]\[1\] is a object"):
        DjangoMsgPackSerializer().serialize({"type": "t", "x": [1, object()]})


def test_unknown_serializer_is_a_configuration_error() -> None:
    with pytest.raises(InvalidChannelLayerError, match="no-such-format"):
        RedisChannelLayer(serializer_format="no-such-format")
