"""A cross-process layer passes the whole suite, cross-process tests included.

This proves that the cross-process tests and the peer process work end to
end; the broken-layer tests prove that they can fail.
"""

from __future__ import annotations

import os
import tempfile

from asgi_conformance import ALL_CAPABILITIES, LayerConformance


class TestSQLiteReferenceConformance(LayerConformance):
    layer_path = "sqlite_layer.SQLiteChannelLayer"
    # Computed once per test process: the peer process gets the same path.
    layer_kwargs = {
        "path": os.path.join(tempfile.gettempdir(), f"asgi-conformance-{os.getpid()}.sqlite3")
    }
    capabilities = ALL_CAPABILITIES - {"restartable"}  # no broker to restart
    cancel_iterations = 500
