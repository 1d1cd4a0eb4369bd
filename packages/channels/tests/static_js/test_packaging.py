"""The wheel ships the non-Python parts: the bridge script, the delay app's migration."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]


def test_the_wheel_contains_the_bridge_and_the_delay_migration(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "-o",
            str(tmp_path),
            str(PACKAGE),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("channels-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "channels/static/channels/js/websocketbridge.js",
        "channels/static/channels/js/websocketbridge.mjs",
        "channels/delay/migrations/0001_initial.py",
        "channels/delay/management/commands/rundelay.py",
        "channels/py.typed",
    ):
        assert expected in names, f"{expected} missing from {wheel.name}"
