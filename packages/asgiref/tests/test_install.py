"""Installing our asgiref next to Django in a clean venv keeps our asgiref.

Django requires asgiref; pip must be satisfied by ours (3.14) and never fetch PyPI's.
This builds a real venv (no system site-packages) and installs from the configured indexes
(about 40 s on the shared CI machine).
"""

from __future__ import annotations

import re
import subprocess
import venv
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(600)
def test_pip_install_with_django_keeps_our_asgiref(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(PACKAGE), "django"],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    show = subprocess.run(
        [str(python), "-m", "pip", "show", "asgiref"], capture_output=True, text=True, check=True
    ).stdout
    ours = re.search(r'__version__ = "([^"]+)"', (PACKAGE / "src/asgiref/__init__.py").read_text())
    assert ours is not None
    assert f"Version: {ours.group(1)}" in show
    location = re.search(r"^Location: (.+)$", show, flags=re.MULTILINE)
    assert location is not None
    assert Path(location.group(1)).resolve().is_relative_to(env_dir.resolve())
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util, asgiref, django.core.asgi;"
            "print(importlib.util.find_spec('asgiref._async_to_sync') is not None)",
        ],
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr
    # Only this repository's asgiref has the private _async_to_sync module.
    assert probe.stdout.strip() == "True"
