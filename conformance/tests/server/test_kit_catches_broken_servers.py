"""The server kit can fail: each deliberately broken server is caught by the right check.

Every run starts the kit in a pytest subprocess against ``tiny_server.py`` (a small
asyncio ASGI server) with one bug switched on, and reads the outcomes from the kit's
own results file. The same checks run against the server without bugs, as a control,
and must all pass: a check that fails everywhere would prove nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

# bug -> the checks (results-file case names) that must fail with it.
CAUGHT: dict[str, list[str]] = {
    "upgrade-on-post": [
        "websocket_handshake::test_invalid_handshake_is_not_switched[post-method]",
    ],
    "ignore-cl-conflict": [
        "http1_framing::test_ambiguous_framing_never_smuggles_a_request[cl-te]",
        "http1_framing::test_ambiguous_framing_never_smuggles_a_request[te-cl]",
    ],
    "leak-trailers": ["resources::test_oversized_chunked_trailers_keep_memory_bounded"],
    "no-host-check": [
        "http1_framing::test_host_is_required_in_http11",
        "http1_framing::test_two_host_fields_are_rejected",
    ],
    "drop-last-on-half-close": [
        "http1_connection::test_pipelined_requests_then_half_close_get_every_response",
    ],
    "skip-utf8": [
        "websocket_frames::test_invalid_utf8_text_closes_1007[overlong]",
        "websocket_frames::test_invalid_utf8_text_closes_1007[truncated-across-fragments]",
    ],
    "close-1000": ["websocket_frames::test_valid_close_code_is_echoed[4000]"],
    "pass-header-crlf": [
        "asgi_http::test_header_injection_from_the_app_never_reaches_the_wire",
    ],
}

SELECTED = sorted({case for cases in CAUGHT.values() for case in cases})


def _package() -> Path:
    import asgi_conformance.server as kit

    return Path(kit.__file__).resolve().parent


def _selection() -> list[str]:
    """pytest node ids (inside the installed package) of every selected check."""
    ids = []
    for case in SELECTED:
        module, _, name = case.partition("::")
        ids.append(f"{_package() / f'test_{module}.py'}::{name}")
    return ids


def _run_kit(tmp_path: Path, bugs: list[str]) -> dict[str, dict[str, str]]:
    report = tmp_path / "report.json"
    command = f"{{python}} {HERE / 'tiny_server.py'} --port {{port}} --app {{app}}"
    command += "".join(f" --bug {bug}" for bug in bugs)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--rootdir={_package()}",
        f"--server-cmd={command}",
        "--server-claims=websocket",
        f"--server-report={report}",
        *_selection(),
    ]
    completed = subprocess.run(
        argv,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(HERE)},
    )
    assert report.exists(), f"the kit wrote no results:\n{completed.stdout}\n{completed.stderr}"
    results: dict[str, dict[str, str]] = json.loads(report.read_text())["results"]
    return results


def test_the_correct_server_passes_every_selected_check(tmp_path: Path) -> None:
    results = _run_kit(tmp_path, [])
    outcomes = {case: results.get(case, {}).get("outcome") for case in SELECTED}
    assert outcomes == dict.fromkeys(SELECTED, "pass"), results


@pytest.mark.parametrize("bug", list(CAUGHT))
def test_each_bug_is_caught_by_its_check(tmp_path: Path, bug: str) -> None:
    results = _run_kit(tmp_path, [bug])
    for case in CAUGHT[bug]:
        assert results[case]["outcome"] == "fail", (case, results[case])
    others = [c for c in SELECTED if c not in CAUGHT[bug] and results[c]["outcome"] != "pass"]
    assert others == [], f"bug {bug!r} should break only its own checks: {others}"
