"""The chat wire protocol as pure functions (no IO, no Django request objects).

Client -> server: one text frame holding ``{"message": "<text>"}``.

Server -> client, one JSON object per text frame, told apart by ``type``:

``{"type": "welcome", "room": ..., "user": ...}``   once, right after the handshake;
``{"type": "message", "id": ..., "room": ..., "user": ..., "message": ...}``  a broadcast;
``{"type": "moderation", "id": ..., "verdict": ..., "reason": ..., "worker": ...}``  the
background check of message ``id`` (only when it is on, see chatsite/tasking.py): verdict
``ok`` or ``flagged``, and the id of the task worker that ran it;
``{"type": "error", "error": ...}``   the last frame was rejected; the socket stays open.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

__all__ = [
    "MAX_MESSAGE_LENGTH",
    "ROOM_NAME_PATTERN",
    "ChatInputError",
    "display_name",
    "error_frame",
    "group_for_room",
    "message_frame",
    "moderation_frame",
    "new_message_id",
    "parse_client_frame",
    "welcome_frame",
]

#: Room names are limited to characters that are valid in a channel-layer group
#: name, so every room maps to a group without escaping; 64 keeps the group name
#: ("chat." + room) well inside the 100-character limit.
ROOM_NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"
_ROOM_RE = re.compile(ROOM_NAME_PATTERN)

MAX_MESSAGE_LENGTH = 2000


class ChatInputError(ValueError):
    """A client frame that cannot be broadcast; the text is safe to show the sender."""


def group_for_room(room: str) -> str:
    """Return the channel-layer group for ``room``."""
    if not _ROOM_RE.fullmatch(room):
        raise ChatInputError(
            f"room name must match {ROOM_NAME_PATTERN} (letters, digits, '-', '_'); got {room!r}"
        )
    return f"chat.{room}"


def parse_client_frame(text_data: str | None, bytes_data: bytes | None) -> str:
    """Return the message text from a client frame or raise :class:`ChatInputError`."""
    if text_data is None:
        size = 0 if bytes_data is None else len(bytes_data)
        raise ChatInputError(
            f'expected a text frame holding {{"message": "..."}}; got a {size}-byte binary frame'
        )
    try:
        payload: Any = json.loads(text_data)
    except ValueError:
        raise ChatInputError(
            f'expected JSON like {{"message": "..."}}; got {_preview(text_data)}'
        ) from None
    if not isinstance(payload, dict) or "message" not in payload:
        raise ChatInputError(
            f'expected a JSON object with a "message" key; got {_preview(text_data)}'
        )
    message = payload["message"]
    if not isinstance(message, str):
        raise ChatInputError(f'"message" must be a string; got {type(message).__name__}')
    message = message.strip()
    if not message:
        raise ChatInputError('"message" must not be empty')
    if len(message) > MAX_MESSAGE_LENGTH:
        raise ChatInputError(
            f'"message" must be at most {MAX_MESSAGE_LENGTH} characters; got {len(message)}'
        )
    return message


def display_name(user: Any) -> str:
    """Name shown for the sender: the username when signed in, else ``anonymous``."""
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.get_username())
    return "anonymous"


def welcome_frame(room: str, user: str) -> str:
    return json.dumps({"type": "welcome", "room": room, "user": user})


def new_message_id() -> str:
    """An id for one broadcast, so that a later moderation frame can point at it."""
    return uuid.uuid4().hex[:16]


def message_frame(message_id: str, room: str, user: str, message: str) -> str:
    return json.dumps(
        {"type": "message", "id": message_id, "room": room, "user": user, "message": message}
    )


def moderation_frame(message_id: str, verdict: str, reason: str, worker: str) -> str:
    return json.dumps(
        {
            "type": "moderation",
            "id": message_id,
            "verdict": verdict,
            "reason": reason,
            "worker": worker,
        }
    )


def error_frame(error: str) -> str:
    return json.dumps({"type": "error", "error": error})


def _preview(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
