"""Test tools: communicators for consumers, and a live-server test case.

``ChannelsLiveServerTestCase`` is loaded on first use, so importing this
module needs neither daphne nor ``django.test``.
"""

from __future__ import annotations

from asgiref.testing import ApplicationCommunicator

# Upstream's testing package imports these, and test suites rely on that:
# after ``import channels.testing``, ``channels.routing.URLRouter`` (and the
# others) are reachable from a plain ``import channels``.
from .. import consumer, db, layers, routing  # noqa: F401
from ._communicators import HttpCommunicator, WebsocketCommunicator

__all__ = [
    "ApplicationCommunicator",
    "ChannelsLiveServerTestCase",
    "HttpCommunicator",
    "WebsocketCommunicator",
]


def __getattr__(name: str) -> object:
    if name == "ChannelsLiveServerTestCase":
        from ._live import ChannelsLiveServerTestCase

        return ChannelsLiveServerTestCase
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
