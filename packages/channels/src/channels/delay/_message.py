"""The delay request format and its validation (pure; no IO)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asgiref.layers import (
    InvalidChannelName,
    InvalidMessage,
    require_valid_channel_name,
    validate_message,
)

__all__ = [
    "DELAY_CHANNEL",
    "MAX_DELAY_MS",
    "DelayRequest",
    "InvalidDelayMessage",
    "validate_delay_message",
]

#: The channel ``rundelay`` listens on (Channels 1 used the same name).
DELAY_CHANNEL = "asgi.delay"
#: The longest delay accepted: 7 days, in milliseconds. A longer one is more
#: likely a unit mistake (seconds given as ms, a timestamp) than a plan.
MAX_DELAY_MS = 7 * 24 * 3600 * 1000


class InvalidDelayMessage(ValueError):
    """A delay request is malformed; the message says what was expected."""


@dataclass(frozen=True)
class DelayRequest:
    channel: str
    content: dict[str, Any]
    delay_ms: int


def validate_delay_message(message: object) -> DelayRequest:
    """Check ``{"type": "delay", "channel", "content", "delay"}`` and return its parts."""
    if not isinstance(message, dict):
        raise InvalidDelayMessage(f"A delay request must be a dict, got {type(message).__name__}")
    if message.get("type") != "delay":
        raise InvalidDelayMessage(
            f"A delay request has type 'delay', got type {message.get('type')!r}"
        )
    channel = message.get("channel")
    if not isinstance(channel, str):
        raise InvalidDelayMessage(
            f"'channel' must be a channel name (str), got {type(channel).__name__}"
        )
    try:
        require_valid_channel_name(channel)
    except InvalidChannelName as exc:
        raise InvalidDelayMessage(f"'channel' is not a valid channel name: {exc}") from exc
    return DelayRequest(channel, _content(message.get("content")), _delay(message.get("delay")))


def _content(content: object) -> dict[str, Any]:
    if not isinstance(content, dict) or not isinstance(content.get("type"), str):
        raise InvalidDelayMessage(
            f"'content' must be a message dict with a str 'type', got {content!r:.80}"
        )
    try:
        return validate_message(content)
    except InvalidMessage as exc:
        raise InvalidDelayMessage(f"'content' cannot be sent: {exc}") from exc


def _delay(delay: object) -> int:
    if isinstance(delay, bool) or not isinstance(delay, int):
        raise InvalidDelayMessage(
            f"'delay' must be an int number of milliseconds, got {type(delay).__name__} {delay!r}"
        )
    if delay < 0:
        raise InvalidDelayMessage(f"'delay' must be 0 or more milliseconds, got {delay}")
    if delay > MAX_DELAY_MS:
        raise InvalidDelayMessage(
            f"'delay' must be at most {MAX_DELAY_MS} ms (7 days), got {delay}"
        )
    return delay
