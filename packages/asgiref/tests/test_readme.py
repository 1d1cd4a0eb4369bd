"""The README's examples (the sections this package's core owns) run as written."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# The "Channel layers" section and what follows it are exercised by tests/layers.
CORE_PART = README.read_text(encoding="utf-8").split("## Channel layers", 1)[0]
BLOCKS = [
    textwrap.dedent(block)
    for block in re.findall(r"```python\n(.*?)```", CORE_PART, flags=re.DOTALL)
]


def test_the_core_sections_have_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", BLOCKS[index]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"example {index} failed:\n{BLOCKS[index]}\n{result.stderr}"
    assert result.stderr == ""
