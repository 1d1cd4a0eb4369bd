"""The specification (README.md) and the suite name the same tests.

A test added to the suite without a guarantee in the README, or a guarantee
citing a test that no longer exists, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from asgi_conformance import LayerConformance

README = Path(__file__).resolve().parents[1] / "README.md"


def _suite_tests() -> set[str]:
    return {name for name in dir(LayerConformance) if name.startswith("test_")}


def test_every_suite_test_is_cited_by_the_specification() -> None:
    text = README.read_text(encoding="utf-8")
    uncited = sorted(name for name in _suite_tests() if f"`{name}`" not in text)
    assert not uncited, f"tests without a guarantee in README.md: {uncited}"


def test_every_cited_test_exists() -> None:
    text = README.read_text(encoding="utf-8")
    cited = set(re.findall(r"`(test_[a-z0-9_]+)`", text))
    # "test_cross_process_*" style wildcards are prose, not names.
    stale = sorted(name for name in cited - _suite_tests() if not name.endswith("_"))
    assert not stale, f"README.md cites tests the suite does not have: {stale}"
