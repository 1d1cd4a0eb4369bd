"""mypy sees through database_sync_to_async (users type-check their consumers).

``typing_samples/db.py`` pins the revealed types with ``assert_type`` and marks the lines
that must be type errors with ``# error:``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parent / "typing_samples" / "db.py"

pytestmark = pytest.mark.timeout(300)


def test_database_sync_to_async_keeps_parameter_and_return_types(tmp_path: Path) -> None:
    # An empty config: the check must not depend on the repository's mypy settings.
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "--config-file",
            str(config),
            SAMPLE.name,
        ],
        cwd=SAMPLE.parent,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert "No module named mypy" not in result.stderr, result.stderr
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    expected = {number for number, line in enumerate(lines, 1) if "# error:" in line}
    reported = {
        int(match.group(1))
        for match in re.finditer(rf"^{re.escape(SAMPLE.name)}:(\d+): error:", result.stdout, re.M)
    }
    assert reported == expected, result.stdout + result.stderr
