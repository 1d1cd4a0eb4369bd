"""The in-memory layer passes the whole conformance suite.

It lives here rather than in packages/asgiref/tests so that asgiref's tests do
not depend on asgi-conformance.
"""

from __future__ import annotations

from asgi_conformance import ALL_CAPABILITIES, LayerConformance


class TestInMemoryConformance(LayerConformance):
    layer_path = "asgiref.layers.InMemoryChannelLayer"
    layer_kwargs = {}
    # Everything but cross_process (the layer lives in one process) and
    # restartable (there is no broker to restart).
    capabilities = ALL_CAPABILITIES - {"cross_process", "restartable"}
    expiry_seconds = 0.5
