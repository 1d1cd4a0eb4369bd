"""Loading the application from a ``module:attribute`` (or dotted) path."""

from __future__ import annotations

import pytest
from daphne._appload import import_by_path
from daphne.access import AccessLogGenerator


def test_import_by_path():
    assert import_by_path("daphne.endpoints:build_endpoint_description_strings").__name__ == (
        "build_endpoint_description_strings"
    )
    assert import_by_path("daphne.access.AccessLogGenerator") is AccessLogGenerator
    with pytest.raises(ImportError, match="no attribute"):
        import_by_path("daphne.access:Nope")
    with pytest.raises(ImportError, match="module:application"):
        import_by_path("nodots")
