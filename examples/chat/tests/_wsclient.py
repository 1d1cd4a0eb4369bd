"""A plain WebSocket client (the ``websockets`` library) speaking the chat protocol.

Loaded by path from conftest.py; test modules get it through the ``ws_client`` fixture.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

#: Upper bound for one frame to arrive; bounds a hang, is not a speed assertion.
FRAME_DEADLINE = 30.0


class ChatClient:
    """One joined socket: ``welcome`` has been received, so the group join is done."""

    def __init__(self, connection: Any, welcome: dict[str, Any]) -> None:
        self.connection = connection
        self.welcome = welcome

    async def say(self, message: str) -> None:
        await self.connection.send(json.dumps({"message": message}))

    async def send_raw(self, frame: str | bytes) -> None:
        await self.connection.send(frame)

    async def next_frame(self) -> dict[str, Any]:
        try:
            raw = await asyncio.wait_for(self.connection.recv(), FRAME_DEADLINE)
        except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
            raise AssertionError(
                f"expected a frame on {self.connection.request.path}; none arrived "
                f"within {FRAME_DEADLINE:.0f}s"
            ) from None
        frame: dict[str, Any] = json.loads(raw)
        return frame

    async def close(self) -> None:
        await self.connection.close()


async def join(ws_url: str, room: str, *, origin: str, cookie: str | None = None) -> ChatClient:
    """Open ``/ws/chat/<room>/`` and wait for the welcome frame."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    headers = {"Cookie": cookie} if cookie else None
    connection = await asyncio.wait_for(
        connect(f"{ws_url}/ws/chat/{room}/", origin=Origin(origin), additional_headers=headers),
        FRAME_DEADLINE,
    )
    client = ChatClient(connection, {})
    welcome = await client.next_frame()
    if welcome.get("type") != "welcome" or welcome.get("room") != room:
        await client.close()
        raise AssertionError(f"expected a welcome frame for room {room!r}; got {welcome!r}")
    client.welcome = welcome
    return client
