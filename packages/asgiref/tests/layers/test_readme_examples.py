"""The Python examples in the "Channel layers" section of the asgiref README run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Channel layers") :]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_section_has_examples() -> None:
    assert _examples(), "no ```python blocks found in the Channel layers section"


@pytest.mark.parametrize("index", range(len(_examples())))
def test_example_runs(index: int) -> None:
    exec(compile(_examples()[index], f"README example {index}", "exec"), {})
