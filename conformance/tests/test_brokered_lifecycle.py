"""The lifecycle tests pass against a layer that recovers from broker restarts.

``brokered_layer.BrokeredLayer`` has a restartable in-process broker, so the
restart test runs here with no service; the broken-layer tests prove that the
same test fails against layers that do not recover.
"""

from __future__ import annotations

import secrets

import brokered_layer
from asgi_conformance import BrokerRestartTests, TeardownTests


class TestBrokeredLifecycle(TeardownTests, BrokerRestartTests):
    layer_path = "brokered_layer.BrokeredLayer"
    layer_kwargs = {"broker": f"lifecycle-{secrets.token_hex(4)}"}
    capabilities = frozenset({"groups", "flush", "process_local", "cancel_safe", "restartable"})

    def restart_broker(self) -> None:
        brokered_layer.restart(self.layer_kwargs["broker"])
