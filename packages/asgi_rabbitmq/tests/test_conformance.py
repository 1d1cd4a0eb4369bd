"""The layer passes the channel-layer conformance suite against the real broker."""

from __future__ import annotations

import os
import secrets

from asgi_conformance import LayerConformance

_URL = os.environ.get("ASGI_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


class TestRabbitmqConformance(LayerConformance):
    layer_path = "asgi_rabbitmq.core.RabbitmqChannelLayer"
    # A prefix per test session keeps concurrent runs on a shared broker apart;
    # the cross-process peer rebuilds the layer from the same (JSON) kwargs.
    layer_kwargs = {"host": _URL, "prefix": f"conf{secrets.token_hex(3)}"}
    capabilities = frozenset(
        {
            "groups",
            "flush",
            "expiry",
            "group_expiry",
            "capacity",
            "channel_capacity",
            "process_local",
            "cross_process",
            "cancel_safe",
            "large_messages",
        }
    )
