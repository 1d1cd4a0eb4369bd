"""``send_delayed``: the producer side of the delay server."""

from __future__ import annotations

from typing import Any

from .. import DEFAULT_CHANNEL_LAYER
from .._layers import get_channel_layer
from ._message import DELAY_CHANNEL, validate_delay_message

__all__ = ["send_delayed"]


async def send_delayed(
    channel: str,
    message: dict[str, Any],
    delay: int,
    *,
    alias: str = DEFAULT_CHANNEL_LAYER,
    delay_channel: str = DELAY_CHANNEL,
) -> None:
    """Ask ``rundelay`` to send *message* to *channel* after *delay* milliseconds.

    The request is validated here, so a bad one fails in the producer rather
    than being dropped (with a log line) by the delay server.
    """
    request = {"type": "delay", "channel": channel, "content": message, "delay": delay}
    validate_delay_message(request)
    layer = get_channel_layer(alias)
    if layer is None:
        raise ValueError(f"send_delayed needs a channel layer, but {alias!r} is not configured")
    await layer.send(delay_channel, request)
