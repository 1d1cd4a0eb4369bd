"""SerializingChannelLayer: send and group_send as one template over a transport."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.layers import (
    InvalidChannelName,
    InvalidGroupName,
    InvalidMessage,
    JSONSerializer,
    MessageTooLarge,
    SerializingChannelLayer,
)


class _Recording(SerializingChannelLayer):
    """A transport that only records what reached it."""

    message_size_source = "the test's limit"

    def __init__(self, limit: int | None = None) -> None:
        super().__init__()
        self.serializer = JSONSerializer()
        self.limit = limit
        self.sent: list[tuple[str, str, bytes]] = []

    def max_message_size(self) -> int | None:
        return self.limit

    async def send_payload(self, channel: str, payload: bytes) -> None:
        self.sent.append(("send", channel, payload))

    async def group_send_payload(self, group: str, payload: bytes) -> None:
        self.sent.append(("group", group, payload))


async def test_send_and_group_send_hand_the_serialized_message_to_the_transport() -> None:
    layer = _Recording()
    await layer.send("chat.one", {"type": "a"})
    await layer.group_send("room", {"type": "b"})
    assert layer.sent == [("send", "chat.one", b'{"type":"a"}'), ("group", "room", b'{"type":"b"}')]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda layer: layer.send("bad name", {"type": "x"}), InvalidChannelName),
        (lambda layer: layer.group_send("bad!group", {"type": "x"}), InvalidGroupName),
        (lambda layer: layer.send("ok", ["not", "a", "dict"]), InvalidMessage),
        (lambda layer: layer.group_send("ok", {"type": object()}), InvalidMessage),
        (lambda layer: layer.send("ok", {"type": "x" * 100}), MessageTooLarge),
    ],
)
async def test_a_bad_call_reaches_no_transport(call: Any, error: type[Exception]) -> None:
    layer = _Recording(limit=50)
    with pytest.raises(error):
        await call(layer)
    assert layer.sent == []


async def test_the_size_error_says_how_big_and_where_the_limit_comes_from() -> None:
    layer = _Recording(limit=10)
    with pytest.raises(MessageTooLarge, match=r"18 bytes; .* at most 10 \(the test's limit\)"):
        await layer.send("ok", {"type": "abcdefg"})


async def test_a_layer_without_a_transport_fails_loudly() -> None:
    layer = SerializingChannelLayer()
    layer.serializer = JSONSerializer()
    with pytest.raises(NotImplementedError, match="send_payload"):
        await layer.send("ok", {"type": "x"})
    with pytest.raises(NotImplementedError, match="groups"):
        await layer.group_send("ok", {"type": "x"})
