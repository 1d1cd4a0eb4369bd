"""Conformance tests for bad input: invalid names and messages are refused clearly."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.layers import InvalidChannelName, InvalidMessage

from ._harness import Harness

__all__ = ["ValidationTests"]


class ValidationTests(Harness):
    """Bad names and messages raise the documented errors; nothing is lost."""

    __test__ = False

    def test_invalid_channel_names_are_rejected(self) -> None:
        """send() to a bad channel name raises InvalidChannelName, a TypeError."""
        bad_names: list[Any] = ["", "has space", "ünicode", "a" * 100, "two!bang!s", 42, None]

        async def body(layer: Any) -> None:
            for bad in bad_names:
                with pytest.raises(InvalidChannelName):
                    await layer.send(bad, {"type": "test.bad"})
                with pytest.raises(TypeError):  # InvalidChannelName is a TypeError
                    await layer.send(bad, {"type": "test.bad"})
            channel = self.name("after-bad-names")
            await layer.send(channel, {"type": "test.still-serving"})
            await self.expect(layer, channel, {"type": "test.still-serving"})

        self.run(body)

    def test_invalid_receive_names_are_rejected(self) -> None:
        """receive() from a bad channel name raises InvalidChannelName."""

        async def body(layer: Any) -> None:
            for bad in ["", "white space", "a" * 100]:
                with pytest.raises(InvalidChannelName):
                    await layer.receive(bad)

        self.run(body)

    def test_invalid_messages_are_rejected_and_nothing_is_lost(self) -> None:
        """A non-dict message raises InvalidMessage (a TypeError); queued ones stay."""
        bad_messages: list[Any] = [None, "text", [("type", "x")], b"bytes", {1: "int key"}]

        async def body(layer: Any) -> None:
            channel = self.name("bad-messages")
            await layer.send(channel, {"type": "test.before"})
            for bad in bad_messages:
                with pytest.raises(InvalidMessage) as info:
                    await layer.send(channel, bad)
                assert isinstance(info.value, TypeError)
                assert str(info.value), f"empty error message for {bad!r}"
            await layer.send(channel, {"type": "test.after"})
            await self.expect(layer, channel, {"type": "test.before"})
            await self.expect(layer, channel, {"type": "test.after"})

        self.run(body)
