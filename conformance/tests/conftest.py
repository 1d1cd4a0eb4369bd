"""Make the test-only layers in this directory importable (also by the peer process)."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def pytest_sessionfinish(session: object, exitstatus: object) -> None:
    # The SQLite reference layer's database lives in the temp dir, named by pid.
    import os
    import tempfile

    base = Path(tempfile.gettempdir()) / f"asgi-conformance-{os.getpid()}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{base}{suffix}").unlink(missing_ok=True)
