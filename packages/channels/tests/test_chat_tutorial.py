"""The tutorial chat app, end to end on the in-memory layer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels.worker import Worker
from channels_tests_app import BACKGROUND_CHANNEL, application

ORIGIN = [(b"origin", b"http://localhost")]


async def _connect(path: str, **kwargs: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=ORIGIN, **kwargs)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.mark.usefixtures("db")
async def test_two_members_of_a_room_see_each_others_messages(make_user: Any) -> None:
    alice = await database_sync_to_async(make_user)("alice")
    first = await _connect("/ws/chat/lobby/", user=alice)
    second = await _connect("/ws/chat/lobby/")
    await first.send_json_to({"message": "hello"})
    assert await first.receive_json_from() == {"message": "hello", "user": "alice"}
    assert await second.receive_json_from() == {"message": "hello", "user": "alice"}
    await second.send_json_to({"message": "hi"})
    assert await first.receive_json_from() == {"message": "hi", "user": "anonymous"}
    assert await second.receive_json_from() == {"message": "hi", "user": "anonymous"}
    await first.disconnect()
    await second.disconnect()


@pytest.mark.usefixtures("db")
async def test_rooms_are_separate() -> None:
    lobby = await _connect("/ws/chat/lobby/")
    other = await _connect("/ws/chat/other/")
    await lobby.send_json_to({"message": "only lobby"})
    assert await lobby.receive_json_from() == {"message": "only lobby", "user": "anonymous"}
    assert await other.receive_nothing()
    await lobby.disconnect()
    await other.disconnect()


@pytest.mark.usefixtures("db")
async def test_disconnected_member_leaves_the_group() -> None:
    first = await _connect("/ws/chat/lobby/")
    second = await _connect("/ws/chat/lobby/")
    await second.disconnect()
    await first.send_json_to({"message": "anyone?"})
    assert await first.receive_json_from() == {"message": "anyone?", "user": "anonymous"}
    layer = get_channel_layer()
    assert layer is not None
    # Only the remaining member's channel is left in the group.
    await layer.group_send("chat_lobby", {"type": "chat.message", "message": "x", "user": "y"})
    assert await first.receive_json_from() == {"message": "x", "user": "y"}
    await first.disconnect()


@pytest.mark.usefixtures("db")
async def test_foreign_origin_is_refused_before_accept() -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/chat/lobby/", headers=[(b"origin", b"http://evil.test")]
    )
    connected, _ = await communicator.connect()
    assert connected is False
    await communicator.disconnect()


@pytest.mark.usefixtures("db")
async def test_consumer_triggers_a_runworker_background_task() -> None:
    layer = get_channel_layer()
    worker = Worker(application, [BACKGROUND_CHANNEL], layer)
    serving = asyncio.ensure_future(worker.arun())
    try:
        first = await _connect("/ws/chat/lobby/")
        second = await _connect("/ws/chat/lobby/")
        await first.send_json_to({"shout": "wake up"})
        assert await first.receive_json_from() == {"message": "WAKE UP", "user": "worker"}
        assert await second.receive_json_from() == {"message": "WAKE UP", "user": "worker"}
        await first.disconnect()
        await second.disconnect()
    finally:
        worker.request_stop()
        await serving
    assert worker.application_instances == {}
