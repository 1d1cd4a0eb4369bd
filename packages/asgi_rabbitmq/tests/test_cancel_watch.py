"""Broker cancellations are heard on aiormq 7 (callback hook) and on aiormq 6 (no hook).

aiormq 6 is what Python 3.10 gets (aio-pika 10 and aiormq 7 need 3.11): before
the watcher, starting a consumer there failed with AttributeError on
``on_consumer_cancel_callbacks``. The end-to-end behaviour (a deleted queue's
consumer comes back) is test_layer's test_deleted_queues_are_recreated_for_pending_receives,
against the real broker, on whichever aiormq the Python in use installs.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import aiormq.abc
from aiormq import spec
from asgi_rabbitmq._cancel_watch import CancelReportingConsumers, watch_broker_cancels


def _as_channel(obj: object) -> aiormq.abc.AbstractChannel:
    channel: Any = obj
    return channel  # type: ignore[no-any-return]


def test_aiormq6_channel_reports_each_dropped_consumer_once_per_callback() -> None:
    # aiormq 6 reacts to Basic.Cancel (and to the CancelOk of our own cancel)
    # only with channel.consumers.pop(tag, None).
    def consumer(message: object) -> None:
        raise AssertionError("not delivered in this test")

    raw = SimpleNamespace(consumers={"ctag1": consumer})
    heard: list[str] = []
    watch_broker_cancels(_as_channel(raw), heard.append)
    watch_broker_cancels(_as_channel(raw), heard.append)  # the same channel seen again
    assert isinstance(raw.consumers, CancelReportingConsumers)
    assert raw.consumers["ctag1"] is consumer  # existing consumers are kept
    assert raw.consumers.pop("ctag1", None) is consumer
    assert raw.consumers.pop("unknown", None) is None
    assert heard == ["ctag1", "unknown"]


def test_aiormq7_channel_gets_one_hook_that_passes_the_tag() -> None:
    hooks: set[Any] = set()
    raw = SimpleNamespace(on_consumer_cancel_callbacks=hooks, consumers={})
    heard: list[str] = []
    watch_broker_cancels(_as_channel(raw), heard.append)
    watch_broker_cancels(_as_channel(raw), heard.append)
    assert len(hooks) == 1
    assert type(raw.consumers) is dict  # the table is left alone when the hook exists
    (hook,) = hooks
    # aiormq 7 wraps each hook with aiormq.tools.awaitable and awaits it with the frame.
    from aiormq.tools import awaitable

    asyncio.run(awaitable(hook)(spec.Basic.Cancel(consumer_tag="ctag9")))
    assert heard == ["ctag9"]
