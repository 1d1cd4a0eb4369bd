"""Authentication: AuthMiddleware, get_user, login, logout, authenticated communicators."""

from __future__ import annotations

from typing import Any

import pytest
from channels.auth import (
    AuthMiddleware,
    AuthMiddlewareStack,
    UserLazyObject,
    get_user,
    login,
    logout,
)
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.sessions import SessionMiddlewareStack
from channels.testing import ApplicationCommunicator, HttpCommunicator, WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore

pytestmark = pytest.mark.usefixtures("db")


class WhoAmI(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content: Any) -> None:
        scope = self.scope
        if content == "login":
            user = await database_sync_to_async(_get_user_named)("bob")
            await login(scope, user)
            await database_sync_to_async(scope["session"].save)()
        elif content == "logout":
            await logout(scope)
        user = scope["user"]
        await self.send_json(user.username if user.is_authenticated else None)


def _get_user_named(name: str) -> Any:
    from django.contrib.auth.models import User

    return User.objects.get(username=name)


async def test_anonymous_without_session_cookie() -> None:
    communicator = WebsocketCommunicator(AuthMiddlewareStack(WhoAmI.as_asgi()), "/")
    await communicator.connect()
    await communicator.send_json_to("who")
    assert await communicator.receive_json_from() is None
    await communicator.disconnect()


async def test_communicator_user_logs_in_through_a_real_session(make_user: Any) -> None:
    alice = await database_sync_to_async(make_user)("alice")
    communicator = WebsocketCommunicator(AuthMiddlewareStack(WhoAmI.as_asgi()), "/", user=alice)
    await communicator.connect()
    await communicator.send_json_to("who")
    assert await communicator.receive_json_from() == "alice"
    await communicator.disconnect()


async def test_http_communicator_user(make_user: Any) -> None:
    from channels.generic.http import AsyncHttpConsumer

    class Name(AsyncHttpConsumer):
        async def handle(self, body: bytes) -> None:
            await self.send_response(200, self.scope["user"].username.encode())

    carol = await database_sync_to_async(make_user)("carol")
    communicator = HttpCommunicator(AuthMiddlewareStack(Name.as_asgi()), "GET", "/", user=carol)
    assert (await communicator.get_response())["body"] == b"carol"


async def test_login_then_logout_inside_a_consumer(make_user: Any) -> None:
    await database_sync_to_async(make_user)("bob")
    communicator = WebsocketCommunicator(AuthMiddlewareStack(WhoAmI.as_asgi()), "/")
    await communicator.connect()
    await communicator.send_json_to("login")
    assert await communicator.receive_json_from() == "bob"
    await communicator.send_json_to("logout")
    assert await communicator.receive_json_from() is None
    await communicator.disconnect()


async def test_login_persists_for_the_next_connection(make_user: Any) -> None:
    bob = await database_sync_to_async(make_user)("bob")
    session = SessionStore()
    scope: dict[str, Any] = {"session": session, "user": AnonymousUser()}
    await login(scope, bob)
    await database_sync_to_async(session.save)()
    assert scope["user"] == bob
    fresh = {"session": SessionStore(session.session_key)}
    assert await get_user(fresh) == bob
    await logout(scope)
    assert isinstance(scope["user"], AnonymousUser)
    assert isinstance(await get_user({"session": SessionStore(session.session_key)}), AnonymousUser)


async def test_changed_password_invalidates_the_session(make_user: Any) -> None:
    bob = await database_sync_to_async(make_user)("bob")
    session = SessionStore()
    await login({"session": session}, bob)
    await database_sync_to_async(session.save)()
    bob.set_password("new password")
    await database_sync_to_async(bob.save)()
    assert isinstance(await get_user({"session": SessionStore(session.session_key)}), AnonymousUser)


async def test_missing_session_and_user_errors_say_what_upstream_says() -> None:
    with pytest.raises(ValueError, match=r"^Cannot find session in scope\. You should wrap"):
        await get_user({})
    with pytest.raises(ValueError, match=r"^Cannot find session in scope\. You should wrap"):
        await login({}, object())
    with pytest.raises(
        ValueError, match=r"^User must be passed as an argument or must be present in the scope.$"
    ):
        await login({"session": SessionStore()}, None)
    communicator = ApplicationCommunicator(AuthMiddleware(WhoAmI.as_asgi()), {"type": "websocket"})
    with pytest.raises(
        ValueError,
        match=r"^AuthMiddleware cannot find session in scope\. SessionMiddleware must be",
    ):
        await communicator.wait()


def test_user_lazy_object_before_resolution() -> None:
    with pytest.raises(ValueError, match=r"^Accessing scope user before it is ready"):
        UserLazyObject().is_authenticated  # noqa: B018


async def test_unknown_cookie_is_anonymous() -> None:
    communicator = WebsocketCommunicator(
        AuthMiddlewareStack(WhoAmI.as_asgi()),
        "/",
        headers=[(b"cookie", f"{settings.SESSION_COOKIE_NAME}=doesnotexist".encode())],
    )
    await communicator.connect()
    await communicator.send_json_to("who")
    assert await communicator.receive_json_from() is None
    await communicator.disconnect()


async def test_user_gate_opens_for_raw_inputs_too(make_user: Any) -> None:
    erin = await database_sync_to_async(make_user)("erin")
    communicator = WebsocketCommunicator(AuthMiddlewareStack(WhoAmI.as_asgi()), "/", user=erin)
    await communicator.send_input({"type": "websocket.connect"})
    assert (await communicator.receive_output())["type"] == "websocket.accept"
    await communicator.disconnect()


async def test_logout_sends_user_logged_out_only_for_an_authenticated_scope_user(
    make_user: Any,
) -> None:
    from django.contrib.auth import user_logged_out

    received: list[Any] = []

    def receiver(sender: Any, user: Any = None, **kwargs: Any) -> None:
        received.append(user)

    user_logged_out.connect(receiver)
    try:
        session = SessionStore()
        await database_sync_to_async(session.__setitem__)("flavour", "mint")
        nobody: dict[str, Any] = {"session": session}
        await logout(nobody)  # nobody logged in: the session is flushed, no signal
        assert received == []
        assert "user" not in nobody
        assert await database_sync_to_async(session.get)("flavour") is None
        bob = await database_sync_to_async(make_user)("bob")
        scope: dict[str, Any] = {"session": SessionStore(), "user": AnonymousUser()}
        await login(scope, bob)
        await logout(scope)
        assert received == [bob]
        assert isinstance(scope["user"], AnonymousUser)
    finally:
        user_logged_out.disconnect(receiver)


async def test_a_user_already_in_the_scope_is_kept(make_user: Any) -> None:
    bob = await database_sync_to_async(make_user)("bob")
    communicator = WebsocketCommunicator(AuthMiddlewareStack(WhoAmI.as_asgi()), "/")
    communicator.scope["user"] = bob  # as tests written for upstream do
    await communicator.connect()
    await communicator.send_json_to("who")
    assert await communicator.receive_json_from() == "bob"
    await communicator.disconnect()


async def test_a_subclass_can_resolve_the_user_its_own_way(make_user: Any) -> None:
    alice = await database_sync_to_async(make_user)("alice")

    class TokenAuthMiddleware(AuthMiddleware):
        async def resolve_scope(self, scope: dict[str, Any]) -> None:
            scope["user"]._wrapped = alice

    app = SessionMiddlewareStack(TokenAuthMiddleware(WhoAmI.as_asgi()))
    communicator = WebsocketCommunicator(app, "/")
    await communicator.connect()
    await communicator.send_json_to("who")
    assert await communicator.receive_json_from() == "alice"
    await communicator.disconnect()
