"""The README's quick start, run exactly as documented, so it cannot rot.

The command block after ``<!-- quickstart:demo -->`` in examples/chat/README.md runs in
a fresh copy of the repository holding what a clone would (new venv, packages installed
from the copy's packages/), on a free port passed through CHAT_PORT. The test then fetches the index
page and joins a room with a WebSocket client, and stops the demo with Ctrl-C (SIGINT).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

CHAT_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = CHAT_DIR.parent.parent
MARKER = "<!-- quickstart:demo -->"

pytestmark = pytest.mark.quickstart

#: The demo builds a venv and installs Django, Twisted and our packages from an index
#: first; on a busy machine or a slow mirror that alone can take minutes. A bound on
#: a hang, not a speed assertion.
SETUP_DEADLINE = 480.0


def documented_commands(readme: str) -> str:
    """The shell block right after the quick-start marker."""
    match = re.search(re.escape(MARKER) + r"\s*```(?:sh|bash|console)\n(.*?)```", readme, re.S)
    if match is None:
        raise AssertionError(f"README has no ```sh block right after {MARKER}")
    return match.group(1).strip()


def test_readme_documents_the_one_command() -> None:
    readme = (CHAT_DIR / "README.md").read_text()
    assert documented_commands(readme) == "scripts/demo"
    assert (REPO_ROOT / "scripts" / "demo").stat().st_mode & 0o111, "scripts/demo is not executable"


def test_demo_refuses_an_unknown_layer_before_installing_anything(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "CHAT_CHANNEL_LAYER": "reddis", "CHAT_VENV": str(tmp_path)}
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "demo")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "must be one of memory, redis, rabbitmq, ipc; got 'reddis'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def copy_repository(target: Path) -> Path:
    """Copy what a clone would hold: the files git tracks or would add (.gitignore applies).

    Only the parts the demo uses are copied; a venv, a database or build output lying
    around in this checkout must not make the quick start pass.
    """
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others",
         "--exclude-standard", "--", "packages", "scripts", "examples/chat"],
        capture_output=True, check=True, timeout=60,
    ).stdout.decode()  # fmt: skip
    copied = 0
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # tracked files deleted in the working tree are listed too
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
            copied += 1
    assert (target / "scripts" / "demo").exists(), f"copied {copied} files but no scripts/demo"
    return target


@pytest.mark.timeout(SETUP_DEADLINE + 120)
async def test_quick_start_serves_the_chat(
    tmp_path: Path, servers_kit: ModuleType, ws_client: ModuleType
) -> None:
    commands = documented_commands((CHAT_DIR / "README.md").read_text())
    root = copy_repository(tmp_path / "clone")
    port = servers_kit.free_port()
    env = dict(servers_kit.subprocess_env({"CHAT_PORT": str(port)}))
    # The clone must stand alone: nothing from this test run's environment may leak in.
    for name in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "CHAT_DB_PATH", "CHAT_TEST_DB_PATH",
                 "CHAT_CHANNEL_LAYER", "VIRTUAL_ENV"):  # fmt: skip
        env.pop(name, None)
    demo = servers_kit.spawn(
        ["bash", "-euo", "pipefail", "-c", commands],
        cwd=root,
        env=env,
        port=port,
        log_path=tmp_path / "demo.log",
    )
    try:
        demo.wait_until_serving(within=SETUP_DEADLINE)
        status, body = _get(demo.url + "/")
        assert status == 200 and "Which chat room would you like to enter?" in body, body[:500]
        client = await ws_client.join(demo.ws_url, "quickstart", origin=demo.url)
        await client.say("the quick start works")
        frame = await client.next_frame()
        assert frame["message"] == "the quick start works"
        await client.close()
        log = demo.log()
        assert f"using asgiref, daphne, channels from {root / 'packages'}" in log, log
        assert (root / "examples/chat/.venv/bin/python").exists()
    finally:
        demo.stop(signal.SIGINT)


def _get(url: str) -> tuple[int, str]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode()
