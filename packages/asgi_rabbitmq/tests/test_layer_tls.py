"""TLS: an amqps:// URL with ssl_context reaches a broker's TLS listener."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest
from asgi_rabbitmq.core import BrokerUnavailable, RabbitmqChannelLayer

pytestmark = pytest.mark.rabbitmq_node


async def test_round_trip_over_tls(rabbit_node: Any) -> None:
    context = ssl.create_default_context(cafile=str(rabbit_node.ca_file))
    sender = RabbitmqChannelLayer(rabbit_node.tls_url, context, prefix="tls")
    receiver = RabbitmqChannelLayer(rabbit_node.tls_url, context, prefix="tls")
    try:
        channel = await receiver.new_channel()
        await receiver.group_add("secure", channel)
        await sender.send(channel, {"n": 1})
        await sender.group_send("secure", {"n": 2})
        got = [await asyncio.wait_for(receiver.receive(channel), 10) for _ in range(2)]
        assert got == [{"n": 1}, {"n": 2}]
    finally:
        await sender.flush()
        await sender.close()
        await receiver.close()


async def test_untrusted_certificate_is_refused(rabbit_node: Any) -> None:
    # The default context does not trust the test CA: the handshake must fail
    # loudly instead of falling back to clear text.
    layer = RabbitmqChannelLayer(
        rabbit_node.tls_url, ssl.create_default_context(), prefix="tls", connect_timeout=5
    )
    with pytest.raises(BrokerUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        await layer.new_channel()
    await layer.close()
