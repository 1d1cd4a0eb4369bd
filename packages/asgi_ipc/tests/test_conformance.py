"""The shared conformance suite, run against the shared-memory layer."""

from __future__ import annotations

import os

from asgi_conformance import ALL_CAPABILITIES, LayerConformance


class TestIPCConformance(LayerConformance):
    layer_path = "asgi_ipc.core.IPCChannelLayer"
    # The pid keeps concurrent test runs on one machine apart; the peer
    # subprocess receives these kwargs as JSON and so joins the same segment.
    layer_kwargs = {
        "prefix": f"conformance-{os.getpid()}",
        "message_memory": 32 * 1024 * 1024,
        "group_memory": 1024 * 1024,
    }
    # Shared memory has no broker to restart.
    capabilities = ALL_CAPABILITIES - {"restartable"}
