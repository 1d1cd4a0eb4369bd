"""The conformance suite's broker-restart test, on a private RabbitMQ node.

The main adoption (test_conformance.py) runs on the shared broker at 5672, which
must never restart. This class runs on conftest's ``rabbit_node`` (its own ports,
Mnesia and log directories), whose RabbitMQ application ``restart_broker()`` stops
and starts again: every connection drops, and the node comes back on the same port.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from asgi_conformance import BrokerRestartTests

pytestmark = [pytest.mark.chaos, pytest.mark.rabbitmq_node]


class TestRabbitmqRestartConformance(BrokerRestartTests):
    layer_path = "asgi_rabbitmq.core.RabbitmqChannelLayer"
    capabilities = frozenset(
        {"groups", "flush", "process_local", "cross_process", "cancel_safe", "restartable"}
    )

    @pytest.fixture(autouse=True)
    def _private_node(self, rabbit_node: Any) -> None:
        self.node = rabbit_node
        # An instance attribute: make_layer() (and a second layer object) use it.
        self.layer_kwargs = {"host": rabbit_node.url, "prefix": f"conf{secrets.token_hex(3)}"}  # type: ignore[misc]

    def restart_broker(self) -> None:
        self.node.stop_app()
        self.node.start_app()  # returns once the AMQP port accepts connections again
