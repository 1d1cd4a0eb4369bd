"""Data binding: broadcasts on commit, configuration errors, inbound actions, multiplexing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from channels.binding import Binding, WebsocketBinding
from channels.db import database_sync_to_async
from channels.generic.multiplex import AsyncJsonWebsocketDemultiplexer
from channels.testing import WebsocketCommunicator
from channels_tests_binding.models import Article
from django.db import transaction


class ArticleBinding(WebsocketBinding):
    model = Article
    stream = "articles"
    exclude = ["secret"]
    groups = ["room-lobby"]

    @classmethod
    def group_names(cls, instance: Any) -> list[str]:
        return [f"room-{instance.room}"]

    def has_permission(self, user: Any, action: str, pk: Any) -> bool:
        return user == "editor" or (user == "creator" and action == "create")


class TitleOnly(Binding):
    model = Article
    stream = "titles"
    fields = ["title"]
    abstract = True  # registered by hand in the test that uses it


class Demux(AsyncJsonWebsocketDemultiplexer):
    applications: ClassVar[dict[str, Any]] = {"articles": ArticleBinding.as_asgi()}


def with_user(app: Any, user: str | None) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        await app({**scope, "user": user}, receive, send)

    return wrapped


@pytest.fixture
def articles(db: None) -> Iterator[None]:
    yield
    Article.objects.all().delete()


async def _connect(user: str | None = "editor", app: Any = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(with_user(app or ArticleBinding.as_asgi(), user), "/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


create = database_sync_to_async(Article.objects.create)


@pytest.mark.usefixtures("articles")
async def test_create_update_delete_are_broadcast_without_excluded_fields() -> None:
    communicator = await _connect()
    article = await create(title="hello", secret="s3cret")
    event = await communicator.receive_json_from()
    assert event == {
        "action": "create",
        "pk": article.pk,
        "model": "channels_tests_binding.article",
        "data": {"title": "hello", "body": "", "room": "lobby"},
    }
    article.title = "changed"
    await database_sync_to_async(article.save)()
    assert (await communicator.receive_json_from())["data"]["title"] == "changed"
    pk = article.pk
    await database_sync_to_async(article.delete)()
    deleted = await communicator.receive_json_from()
    assert (deleted["action"], deleted["pk"]) == ("delete", pk)
    await communicator.disconnect()


@pytest.mark.usefixtures("articles")
async def test_a_rolled_back_write_is_never_broadcast() -> None:
    communicator = await _connect()

    def write_then_fail() -> None:
        with transaction.atomic():
            Article.objects.create(title="ghost")
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await database_sync_to_async(write_then_fail)()
    await create(title="real")
    assert (await communicator.receive_json_from())["data"]["title"] == "real"
    assert await communicator.receive_nothing()
    await communicator.disconnect()


@pytest.mark.usefixtures("articles")
async def test_events_go_only_to_the_instance_groups() -> None:
    communicator = await _connect()
    await create(title="elsewhere", room="kitchen")
    await create(title="here")
    assert (await communicator.receive_json_from())["data"]["title"] == "here"
    assert await communicator.receive_nothing()
    await communicator.disconnect()


@pytest.mark.usefixtures("articles")
async def test_fields_limits_the_payload() -> None:
    from channels.layers import get_channel_layer

    TitleOnly.group_names = classmethod(lambda cls, instance: ["titles"])  # type: ignore[assignment,method-assign]
    TitleOnly.register()
    try:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("titles", channel)
        article = await create(title="t", body="long body")
        message = await layer.receive(channel)
        assert message["type"] == "binding.event"
        assert message["stream"] == "titles"
        assert message["payload"]["data"] == {"title": "t"}
        assert message["payload"]["pk"] == article.pk
    finally:
        TitleOnly.unregister()


@pytest.mark.parametrize(
    ("attributes", "error"),
    [
        ({"stream": "x"}, "exactly one of fields"),
        ({"stream": "x", "fields": ["title"], "exclude": ["body"]}, "exactly one of fields"),
        ({"stream": "x", "fields": ["nope"]}, "fields ['nope'] that Article does not have"),
        ({"fields": ["title"]}, "stream must be a non-empty str"),
    ],
)
def test_misconfigured_bindings_fail_at_definition(attributes: dict[str, Any], error: str) -> None:
    with pytest.raises(TypeError, match=error.replace("[", r"\[").replace("]", r"\]")):
        type("Broken", (Binding,), {"model": Article, **attributes})


def test_importing_binding_connects_no_signal() -> None:
    code = (
        "import django; django.setup()\n"
        "from django.db.models.signals import post_save, post_delete\n"
        "before = (len(post_save.receivers), len(post_delete.receivers))\n"
        "import channels.binding\n"
        "assert (len(post_save.receivers), len(post_delete.receivers)) == before\n"
        "class B(channels.binding.Binding):\n"
        "    from channels_tests_binding.models import Article as model\n"
        "    stream = 's'; fields = ['__all__']\n"
        "assert len(post_save.receivers) == before[0] + 1\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# --- inbound -----------------------------------------------------------------------


async def _exchange(communicator: WebsocketCommunicator, frame: Any) -> list[Any]:
    """Send *frame*; return the reply plus any broadcast it caused, reply first."""
    await communicator.send_json_to(frame)
    replies = [await communicator.receive_json_from()]
    while not await communicator.receive_nothing(timeout=0.2):
        replies.append(await communicator.receive_json_from())
    return sorted(replies, key=lambda frame: "reply" not in frame)


@pytest.mark.usefixtures("articles")
async def test_inbound_create_update_delete() -> None:
    communicator = await _connect("editor")
    reply, event = await _exchange(communicator, {"action": "create", "data": {"title": "new"}})
    pk = reply["pk"]
    assert reply == {"reply": "create", "pk": pk}
    assert (event["action"], event["pk"]) == ("create", pk)
    reply, event = await _exchange(
        communicator, {"action": "update", "pk": pk, "data": {"body": "text"}}
    )
    assert reply == {"reply": "update", "pk": pk}
    # A partial update keeps the fields it did not mention.
    assert event["data"] == {"title": "new", "body": "text", "room": "lobby"}
    reply, event = await _exchange(communicator, {"action": "delete", "pk": pk})
    assert reply == {"reply": "delete", "pk": pk}
    assert not await database_sync_to_async(Article.objects.filter(pk=pk).exists)()
    await communicator.disconnect()


@pytest.mark.usefixtures("articles")
async def test_permission_is_checked_per_action() -> None:
    communicator = await _connect("creator")
    reply, _event = await _exchange(communicator, {"action": "create", "data": {"title": "mine"}})
    pk = reply["pk"]
    (denied,) = await _exchange(communicator, {"action": "delete", "pk": pk})
    assert denied["error"] == f"permission denied: delete on articles pk={pk}"
    assert await database_sync_to_async(Article.objects.filter(pk=pk).exists)()
    await communicator.disconnect()

    anonymous = await _connect(None)
    (denied,) = await _exchange(anonymous, {"action": "create", "data": {"title": "x"}})
    assert "permission denied" in denied["error"]
    await anonymous.disconnect()


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ([1], "expected {"),
        ({"action": "explode"}, "action must be one of"),
        ({"action": "update", "data": {"title": "x"}}, "update needs a 'pk'"),
        ({"action": "create", "data": "title"}, "'data' must be an object, got str"),
        ({"action": "create"}, "create needs 'data'"),
        ({"action": "create", "data": {"secret": "x"}}, "unknown or read-only fields ['secret']"),
        ({"action": "update", "pk": 999999, "data": {"title": "x"}}, "no channels_tests_binding"),
        ({"action": "delete", "pk": "not-a-pk"}, "with pk 'not-a-pk'"),
        ({"action": "create", "data": {"title": "x" * 51}}, "invalid data"),
    ],
)
@pytest.mark.usefixtures("articles")
async def test_bad_frames_get_an_error_reply_and_change_nothing(frame: Any, error: str) -> None:
    communicator = await _connect("editor")
    (reply,) = await _exchange(communicator, frame)
    assert error in reply["error"]
    assert await database_sync_to_async(Article.objects.count)() == 0
    # Still serving.
    reply, _event = await _exchange(communicator, {"action": "create", "data": {"title": "ok"}})
    assert "error" not in reply
    await communicator.disconnect()


@pytest.mark.usefixtures("articles")
async def test_invalid_data_reports_field_errors() -> None:
    communicator = await _connect("editor")
    (reply,) = await _exchange(communicator, {"action": "create", "data": {"title": "x" * 51}})
    assert list(reply["errors"]) == ["title"]
    assert "at most 50 characters" in reply["errors"]["title"][0]
    await communicator.disconnect()


@pytest.mark.usefixtures("articles")
async def test_a_binding_works_as_a_multiplexer_stream() -> None:
    communicator = await _connect("editor", Demux.as_asgi())
    frames = await _exchange(
        communicator,
        {"stream": "articles", "payload": {"action": "create", "data": {"title": "m"}}},
    )
    assert all(frame["stream"] == "articles" for frame in frames)
    payloads = sorted((frame["payload"] for frame in frames), key=lambda p: "reply" not in p)
    assert payloads[0]["reply"] == "create"
    assert (payloads[1]["action"], payloads[1]["data"]["title"]) == ("create", "m")
    await communicator.disconnect()


def test_redefining_a_binding_replaces_it() -> None:
    from channels.binding._outbound import registered_bindings

    def define() -> type[Binding]:
        class Again(Binding):
            model = Article
            stream = "again"
            fields = ["title"]

        return Again

    first, second = define(), define()
    try:
        bound = registered_bindings()
        assert second in bound
        assert first not in bound
    finally:
        second.unregister()
    assert second not in registered_bindings()


@pytest.mark.usefixtures("articles")
async def test_a_failing_broadcast_is_logged_and_the_write_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Unconfigured(Binding):
        model = Article
        stream = "lost"
        fields = ["title"]
        channel_layer_alias = "no-such-layer"

        @classmethod
        def group_names(cls, instance: Any) -> list[str]:
            return ["anywhere"]

    try:
        article = await create(title="kept")
    finally:
        Unconfigured.unregister()
    assert await database_sync_to_async(Article.objects.filter(pk=article.pk).exists)()
    assert "Unconfigured could not broadcast" in caplog.text


@pytest.mark.usefixtures("articles")
async def test_a_websocket_binding_forwards_only_its_own_stream() -> None:
    from channels.layers import get_channel_layer

    communicator = await _connect()
    layer = get_channel_layer()
    other = {"type": "binding.event", "stream": "other", "payload": {"action": "create"}}
    await layer.group_send("room-lobby", other)
    assert await communicator.receive_nothing()
    await communicator.disconnect()


@pytest.mark.usefixtures("articles")
async def test_an_update_moving_an_instance_out_of_a_group_tells_that_group_delete() -> None:
    lobby = await _connect()
    article = await create(title="moving")
    assert (await lobby.receive_json_from())["action"] == "create"
    article.room = "kitchen"
    await database_sync_to_async(article.save)()
    farewell = await lobby.receive_json_from()
    assert (farewell["action"], farewell["pk"]) == ("delete", article.pk)
    assert farewell["data"]["room"] == "kitchen"
    # Later changes in the kitchen are no longer the lobby's business.
    article.title = "moved"
    await database_sync_to_async(article.save)()
    assert await lobby.receive_nothing()
    await lobby.disconnect()


@pytest.mark.usefixtures("articles")
def test_a_save_from_plain_sync_code_is_broadcast() -> None:
    # A WSGI view, the admin or a management command: no event loop anywhere.
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("room-lobby", channel)
    article = Article.objects.create(title="from wsgi")
    message = async_to_sync(layer.receive)(channel)
    assert message["payload"]["pk"] == article.pk
    assert message["payload"]["action"] == "create"
