"""Tests of the built documentation site (docs/_build/html).

``nox -s docs`` builds the site, then runs these. Run alone, they fail (never skip) when
the site has not been built, saying how to build it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent
HTML = DOCS / "_build" / "html"
REPORTS = ROOT / ".ci-reports"

sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the _fences helper


@pytest.fixture(scope="session")
def html_dir() -> Path:
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built site in {HTML}: run `nox -s docs` first", pytrace=False)
    return HTML


def pytest_configure(config: pytest.Config) -> None:
    # The code blocks and the reference test import channels' Django-facing modules.
    import djangosetup

    djangosetup.configure()
