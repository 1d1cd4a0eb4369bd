"""The delay server: validation, storage, sending when due, restarts, rundelay."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.delay import (
    DELAY_CHANNEL,
    MAX_DELAY_MS,
    InvalidDelayMessage,
    send_delayed,
    validate_delay_message,
)
from channels.delay._server import DelayServer
from channels.layers import get_channel_layer
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone


def _request(**changes: Any) -> dict[str, Any]:
    return {
        "type": "delay",
        "channel": "target",
        "content": {"type": "hello", "n": 1},
        "delay": 10,
        **changes,
    }


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("text", "must be a dict, got str"),
        (_request(type="other"), "type 'delay', got type 'other'"),
        (_request(channel=5), "'channel' must be a channel name (str), got int"),
        (_request(channel="bad name!!"), "not a valid channel name"),
        (_request(content="x"), "'content' must be a message dict"),
        (_request(content={"n": 1}), "'content' must be a message dict with a str 'type'"),
        (_request(content={"type": "x", "v": object()}), "'content' cannot be sent"),
        (_request(delay=-1), "0 or more milliseconds, got -1"),
        (_request(delay=MAX_DELAY_MS + 1), f"at most {MAX_DELAY_MS} ms"),
        (_request(delay=1.5), "int number of milliseconds, got float"),
        (_request(delay=True), "got bool"),
        (_request(delay=None), "got NoneType"),
    ],
)
def test_bad_requests_name_what_is_wrong(message: Any, error: str) -> None:
    with pytest.raises(InvalidDelayMessage, match=error.replace("(", r"\(").replace(")", r"\)")):
        validate_delay_message(message)


def test_a_good_request_is_split_into_its_parts() -> None:
    request = validate_delay_message(_request(delay=0))
    assert (request.channel, request.content, request.delay_ms) == (
        "target",
        {"type": "hello", "n": 1},
        0,
    )


@pytest.fixture
def _rows(db: None) -> Iterator[None]:
    from channels.delay.models import DelayedMessage

    DelayedMessage.objects.all().delete()
    yield
    DelayedMessage.objects.all().delete()


@pytest.fixture
async def server(_rows: None) -> AsyncIterator[DelayServer]:
    stop = asyncio.Event()
    delay_server = DelayServer(get_channel_layer(), poll_interval=0.05)
    task = asyncio.ensure_future(delay_server.run(stop))
    yield delay_server
    stop.set()
    await asyncio.wait_for(task, 10)


async def _row_count() -> int:
    from channels.delay.models import DelayedMessage

    return await database_sync_to_async(DelayedMessage.objects.count)()


async def test_a_delayed_message_arrives_and_its_row_is_gone(server: DelayServer) -> None:
    layer = get_channel_layer()
    await send_delayed("target", {"type": "hello", "data": b"\x00\xff"}, 50)
    message = await asyncio.wait_for(layer.receive("target"), 10)
    assert message == {"type": "hello", "data": b"\x00\xff"}
    assert await _row_count() == 0


async def test_messages_arrive_in_due_order_not_send_order(server: DelayServer) -> None:
    layer = get_channel_layer()
    await send_delayed("target", {"type": "late"}, 400)
    await send_delayed("target", {"type": "early"}, 0)
    first = await asyncio.wait_for(layer.receive("target"), 10)
    second = await asyncio.wait_for(layer.receive("target"), 10)
    assert [first["type"], second["type"]] == ["early", "late"]


async def test_a_bad_request_is_dropped_and_the_server_keeps_serving(
    server: DelayServer, caplog: pytest.LogCaptureFixture
) -> None:
    layer = get_channel_layer()
    await layer.send(DELAY_CHANNEL, _request(delay=-5))
    await send_delayed("target", {"type": "after"}, 0)
    assert (await asyncio.wait_for(layer.receive("target"), 10))["type"] == "after"
    assert "Dropped a delay request on 'asgi.delay'" in caplog.text
    assert "got -5" in caplog.text


async def test_send_delayed_refuses_a_bad_request_before_sending(_rows: None) -> None:
    with pytest.raises(InvalidDelayMessage, match="got -1"):
        await send_delayed("target", {"type": "x"}, -1)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(get_channel_layer().receive(DELAY_CHANNEL), 0.1)
    with pytest.raises(InvalidDelayMessage, match="valid channel name"):
        await send_delayed("no spaces allowed", {"type": "x"}, 1)


async def test_stored_messages_survive_a_restart(_rows: None) -> None:
    from channels.delay.models import DelayedMessage

    layer = get_channel_layer()
    first = DelayServer(layer, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.ensure_future(first.run(stop))
    await send_delayed("target", {"type": "kept"}, 3_600_000)
    while await _row_count() == 0:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 10)

    # Time passes while no server runs.
    past = timezone.now() - datetime.timedelta(seconds=1)
    await database_sync_to_async(DelayedMessage.objects.update)(due_at=past)
    stop = asyncio.Event()
    task = asyncio.ensure_future(DelayServer(layer, poll_interval=0.05).run(stop))
    assert await asyncio.wait_for(layer.receive("target"), 10) == {"type": "kept"}
    stop.set()
    await asyncio.wait_for(task, 10)


def test_rundelay_without_a_layer_is_a_command_error() -> None:
    with (
        override_settings(CHANNEL_LAYERS={}),
        pytest.raises(CommandError, match="No channel layer 'default' configured"),
    ):
        call_command("rundelay")


def test_rundelay_stores_requests_and_stops_on_sigterm(tmp_path: Path, _rows: None) -> None:
    from channels.delay.models import DelayedMessage

    seed = [{"channel": DELAY_CHANNEL, "message": _request(delay=3_600_000)}]
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    env = dict(os.environ, CHANNELS_TEST_SEED=str(tmp_path / "seed.json"), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "rundelay", "--layer", "seeded"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not DelayedMessage.objects.exists():
            assert process.poll() is None, "rundelay exited before storing the request"
            time.sleep(0.01)
        row = DelayedMessage.objects.get()
        assert row.channel == "target"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert process.stderr is not None
        logged = process.stderr.read()
        assert "Received SIGTERM" in logged
        assert "Delay server stopped" in logged
        # Stopping lost nothing: the request is still stored for the next run.
        assert DelayedMessage.objects.count() == 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_the_shipped_migration_matches_the_model(db: None) -> None:
    # makemigrations --check exits non-zero when a model change has no migration.
    call_command("makemigrations", "channels_delay", check=True, dry_run=True, verbosity=0)


async def test_a_full_channel_keeps_the_message_until_there_is_room(
    _rows: None, caplog: pytest.LogCaptureFixture
) -> None:
    from channels.layers import InMemoryChannelLayer

    layer = InMemoryChannelLayer(capacity=1)
    await layer.send("target", {"type": "filler"})
    stop = asyncio.Event()
    task = asyncio.ensure_future(DelayServer(layer, poll_interval=0.05).run(stop))
    try:
        await layer.send(DELAY_CHANNEL, _request(content={"type": "waiting"}, delay=0))
        while "is full; retrying" not in caplog.text:
            await asyncio.sleep(0.01)
        assert await _row_count() == 1
        assert (await layer.receive("target"))["type"] == "filler"
        assert (await asyncio.wait_for(layer.receive("target"), 10))["type"] == "waiting"
        while await _row_count():
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_request_that_cannot_be_stored_goes_back_to_the_channel(_rows: None) -> None:
    from django.db import OperationalError, connection

    def rename(old: str, new: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")

    layer = get_channel_layer()
    stop = asyncio.Event()
    # A long poll: the server sleeps in its wait while the table disappears.
    task = asyncio.ensure_future(DelayServer(layer, poll_interval=60).run(stop))
    # One round trip: the server is serving (its receive is pending) when the table goes.
    await send_delayed("target", {"type": "warm-up"}, 0)
    await asyncio.wait_for(layer.receive("target"), 10)
    table = "channels_delay_delayedmessage"
    await database_sync_to_async(rename)(table, "channels_delay_away")
    try:
        await layer.send(DELAY_CHANNEL, _request(content={"type": "precious"}))
        with pytest.raises(OperationalError):
            await asyncio.wait_for(task, 10)
    finally:
        await database_sync_to_async(rename)("channels_delay_away", table)
    returned = await asyncio.wait_for(layer.receive(DELAY_CHANNEL), 10)
    assert returned["content"] == {"type": "precious"}


async def test_a_request_received_as_the_server_stops_is_not_lost(_rows: None) -> None:
    layer = get_channel_layer()
    stop = asyncio.Event()
    server = DelayServer(layer, poll_interval=60)
    task = asyncio.ensure_future(server.run(stop))
    await send_delayed("target", {"type": "warm-up"}, 0)
    await asyncio.wait_for(layer.receive("target"), 10)
    # The request and the stop arrive together: the loop ends before storing it.
    await layer.send(DELAY_CHANNEL, _request(content={"type": "last"}))
    stop.set()
    await asyncio.wait_for(task, 10)
    # Either stored before the loop ended, or handed back to the channel: never dropped.
    if await _row_count() == 0:
        returned = await asyncio.wait_for(layer.receive(DELAY_CHANNEL), 10)
        assert returned["content"] == {"type": "last"}
