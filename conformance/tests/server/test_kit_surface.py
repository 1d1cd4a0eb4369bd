"""The server kit's public surface, its command line and its results table."""

from __future__ import annotations

import json
from pathlib import Path

import asgi_conformance.server as kit
import pytest
from asgi_conformance.server import matrix
from asgi_conformance.server.__main__ import translate
from asgi_conformance.server._kit import KitOptions
from asgi_conformance.server._process import render
from asgi_conformance.server._report import case_name


def test_public_names_are_pinned() -> None:
    assert set(kit.__all__) == {
        "APP",
        "CLAIMS",
        "COMMANDS",
        "FAILING_STARTUP_APP",
        "NO_LIFESPAN_APP",
    }
    assert all(kit.CLAIMS.values()) and set(kit.COMMANDS) == {"main", "proxy", "untrusted_proxy"}


def test_unknown_claim_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown claims \['websockets'\]"):
        KitOptions(commands={"main": "x"}, claims=frozenset({"websockets"}))


def test_command_template_is_split_then_formatted() -> None:
    argv = render("srv --app '{app}' -p {port} --name 'a b'", 8001, "m:app")
    assert argv == ["srv", "--app", "m:app", "-p", "8001", "--name", "a b"]
    with pytest.raises(ValueError, match="bad server command template"):
        render("srv {nope}", 1, "m:app")


def test_short_options_gain_the_server_prefix() -> None:
    args = ["--cmd", "x {port}", "--claims=websocket", "-k", "framing", "--report", "r.json"]
    assert translate(args) == [
        "--server-cmd",
        "x {port}",
        "--server-claims=websocket",
        "-k",
        "framing",
        "--server-report",
        "r.json",
    ]


def test_case_names_drop_the_path_and_prefix() -> None:
    assert case_name("a/b/test_http1_framing.py::test_x[y]") == "http1_framing::test_x[y]"


def _report(path: Path, server: str, results: dict[str, dict[str, str]]) -> Path:
    settings = {"commands": {"main": f"{server} {{app}}"}, "claims": [], "max_body": None}
    path.write_text(json.dumps({"server": server, "settings": settings, "results": results}))
    return path


def test_matrix_keeps_columns_of_servers_not_in_this_run(tmp_path: Path) -> None:
    out = tmp_path / "matrix.md"
    first = _report(
        tmp_path / "a.json",
        "alpha",
        {
            "http1_framing::test_one": {"outcome": "pass", "detail": ""},
            "asgi_http::test_two": {"outcome": "observed", "detail": "kept | alive"},
        },
    )
    second = _report(
        tmp_path / "b.json",
        "beta",
        {"http1_framing::test_one": {"outcome": "fail", "detail": "expected 400, got 200"}},
    )
    assert matrix.main(["--out", str(out), str(first)]) == 0
    out.write_text(out.read_text().replace("# ASGI server", "# Hand-written title\n\n# ASGI"))
    assert matrix.main(["--out", str(out), str(second)]) == 0
    text = out.read_text()
    assert text.startswith("# Hand-written title")
    assert "| `test_one` | pass | **FAIL** |" in text
    assert "| `test_two` | obs: kept / alive |  |" in text
    assert "- `http1_framing::test_one`: expected 400, got 200" in text


def test_a_server_that_cannot_start_fails_with_its_log_once(tmp_path: Path) -> None:
    from asgi_conformance.server._kit import Kit

    command = "{python} -c \"import sys; print('kit-boom', {port}); sys.exit(3)\""
    server_kit = Kit(KitOptions(commands={"main": command}), tmp_path)
    with pytest.raises(AssertionError, match=r"exited before listening \(code 3\)") as first:
        server_kit.server()
    assert "kit-boom" in str(first.value)
    with pytest.raises(AssertionError) as second:
        server_kit.server()
    assert str(second.value) == str(first.value)
    assert len(list(tmp_path.glob("server-*"))) == 1, "expected one attempt, not one per check"
