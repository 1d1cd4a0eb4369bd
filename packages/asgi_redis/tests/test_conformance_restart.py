"""The conformance suite's broker-restart test, on a private redis-server per test.

The main adoption (test_conformance.py) runs on the shared server, which must never
restart; here each test gets its own server (conftest's ``restartable``), which
``restart_broker()`` kills and starts again on the same port, losing its data.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from asgi_conformance import BrokerRestartTests

pytestmark = pytest.mark.chaos

CORE = frozenset({"groups", "flush", "process_local", "cross_process", "cancel_safe"})


class _OnPrivateServer(BrokerRestartTests):
    __test__ = False

    @pytest.fixture(autouse=True)
    def _private_server(self, restartable: Any) -> None:
        self.server = restartable
        # An instance attribute: make_layer() (and a second layer object) use it.
        self.layer_kwargs = {"hosts": [restartable.url], "prefix": f"conf{secrets.token_hex(4)}"}  # type: ignore[misc]

    def restart_broker(self) -> None:
        with self.server.client() as client:
            before = client.info("server")["run_id"]
        self.server.kill()
        self.server.start()  # same port; returns once the server answers PING
        with self.server.client() as client:
            assert client.info("server")["run_id"] != before, "redis-server did not restart"


class TestCoreRestartConformance(_OnPrivateServer):
    layer_path = "asgi_redis.core.RedisChannelLayer"
    capabilities = CORE | {"restartable"}


class TestPubSubRestartConformance(_OnPrivateServer):
    layer_path = "asgi_redis.pubsub.RedisPubSubChannelLayer"
    capabilities = CORE | {"restartable"}
