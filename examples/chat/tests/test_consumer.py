"""The ASGI application in-process (channels' WebsocketCommunicator, in-memory layer).

Absence of a frame is proved by ordering, not by waiting: each socket gets frames in
the order they were sent, so when a later frame arrives first, the earlier one was
never coming.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from chatsite.asgi import application

pytestmark = pytest.mark.usefixtures("flushed_layer")

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def joined(room: str, *headers: tuple[bytes, bytes]) -> tuple[WebsocketCommunicator, Any]:
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/{room}/", headers=[ORIGIN, *headers]
    )
    connected, _ = await communicator.connect()
    assert connected, f"the socket to room {room!r} was refused"
    welcome = await communicator.receive_json_from()
    assert welcome == {"type": "welcome", "room": room, "user": welcome["user"]}
    return communicator, welcome


async def test_room_members_get_broadcasts_and_other_rooms_do_not() -> None:
    alice, welcome = await joined("lobby")
    bob, _ = await joined("lobby")
    carol, _ = await joined("kitchen")
    assert welcome["user"] == "anonymous"

    await alice.send_json_to({"message": "hi lobby"})
    first = await alice.receive_json_from()
    expected = {"type": "message", "room": "lobby", "user": "anonymous", "message": "hi lobby"}
    assert first == {**expected, "id": first["id"]}
    # One broadcast, one id: every member sees the same one.
    assert await bob.receive_json_from() == first

    await carol.send_json_to({"message": "hi kitchen"})
    assert (await carol.receive_json_from())["message"] == "hi kitchen"
    await bob.send_json_to({"message": "lobby again"})
    assert (await alice.receive_json_from())["message"] == "lobby again"
    for communicator in (alice, bob, carol):
        await communicator.disconnect()


async def test_bad_input_gets_an_error_and_the_socket_keeps_working() -> None:
    alice, _ = await joined("errors")
    bob, _ = await joined("errors")
    await alice.send_to(text_data="{not json")
    error = await alice.receive_json_from()
    assert error["type"] == "error" and "expected JSON" in error["error"]
    await alice.send_to(bytes_data=b"\x00")
    assert "binary frame" in (await alice.receive_json_from())["error"]
    await alice.send_json_to({"message": "x" * 5000})
    assert "at most 2000 characters" in (await alice.receive_json_from())["error"]

    await alice.send_json_to({"message": "still here"})
    # Bob's first frame is the good message: none of the rejected ones were broadcast.
    assert (await bob.receive_json_from())["message"] == "still here"
    assert (await alice.receive_json_from())["message"] == "still here"
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize(
    "origin", [b"http://evil.example", b"null", b"http://127.0.0.1.evil.example:8000"]
)
async def test_foreign_origins_are_refused(origin: bytes) -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/chat/lobby/", headers=[(b"origin", origin)]
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize("path", ["/ws/chat/bad.room/", "/ws/chat/", "/ws/other/"])
async def test_unknown_paths_are_refused(path: str) -> None:
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def test_missing_origin_is_refused() -> None:
    communicator = WebsocketCommunicator(application, "/ws/chat/lobby/")
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


def _session_cookie_for(username: str) -> bytes:
    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.create_user(username, password="a-long-passphrase")
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def test_signed_in_users_are_shown_by_name(unique: Callable[[str], str]) -> None:
    username = unique("alice")
    cookie = await sync_to_async(_session_cookie_for)(username)
    alice, welcome = await joined("names", (b"cookie", cookie))
    bob, _ = await joined("names")
    assert welcome["user"] == username
    await alice.send_json_to({"message": "it's me"})
    frame = await bob.receive_json_from()
    assert frame == {
        "type": "message",
        "id": frame["id"],
        "room": "names",
        "user": username,
        "message": "it's me",
    }
    await alice.disconnect()
    await bob.disconnect()
