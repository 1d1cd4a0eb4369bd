"""Collect each check's outcome (and observed value) into a JSON results file.

The file is what ``python -m asgi_conformance.server.matrix`` turns into a case x
server table. Outcomes: ``pass``, ``fail``, ``not supported`` (a skip: an unclaimed
feature or a missing command) or ``observed: VALUE`` for checks where the spec leaves
a choice and the kit records what the server did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def case_name(nodeid: str) -> str:
    """``pkg/test_http1_framing.py::test_x[y]`` -> ``http1_framing::test_x[y]``."""
    path, _, name = nodeid.partition("::")
    stem = Path(path.replace("\\", "/")).stem
    return f"{stem.removeprefix('test_')}::{name}"


class ResultsWriter:
    """A pytest plugin object, registered only when ``--server-report`` is given."""

    def __init__(self, path: Path, server: str, settings: dict[str, Any]) -> None:
        self.path = path
        self.data: dict[str, Any] = {"server": server, "settings": settings, "results": {}}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = case_name(report.nodeid)
        results = self.data["results"]
        if report.when == "call" or (report.when == "setup" and not report.passed):
            results[name] = _outcome(report)
        elif report.when == "teardown" and report.failed and name in results:
            results[name] = {"outcome": "fail", "detail": _detail(report)}

    def pytest_sessionfinish(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=1, sort_keys=True) + "\n")


def _outcome(report: pytest.TestReport) -> dict[str, str]:
    observed = [str(value) for key, value in report.user_properties if key == "observed"]
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        return {"outcome": "not supported", "detail": str(reason).removeprefix("Skipped: ")}
    if report.failed:
        return {"outcome": "fail", "detail": _detail(report)}
    if observed:
        return {"outcome": "observed", "detail": "; ".join(observed)}
    return {"outcome": "pass", "detail": ""}


def _detail(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(getattr(crash, "message", "") or report.longreprtext)
    return text.strip().splitlines()[0][:300] if text.strip() else "failed"


__all__ = ["ResultsWriter", "case_name"]
