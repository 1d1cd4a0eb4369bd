"""Build every package and prove each installs and imports on its own.

For each package: build the sdist and the wheel, then make a clean venv, install
that wheel with only its declared dependencies (our own asgiref wheel stands in
for PyPI's), and import every module it ships. A module that imports something
the package does not declare fails here.

Then it runs the install line each package's README gives for a checkout (the first
``pip install ./packages/asgiref ...`` line) in another clean venv, from the repository
root, so the documented command cannot drift from what works.

Usage: python scripts/check_builds.py [package ...]
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "asgiref": ROOT / "packages/asgiref",
    "channels": ROOT / "packages/channels",
    "daphne": ROOT / "packages/daphne",
    "asgi_redis": ROOT / "packages/asgi_redis",
    "asgi_rabbitmq": ROOT / "packages/asgi_rabbitmq",
    "asgi_ipc": ROOT / "packages/asgi_ipc",
    "asgi_conformance": ROOT / "conformance",
}
#: Modules that need an optional dependency the package does not declare.
OPTIONAL = {
    "daphne": ("daphne.apps", "daphne.checks", "daphne.management", "daphne._h2conn"),
    # Needs Django 6.0 (django.tasks), which needs Python 3.12; on older Django its import
    # raises the ImportError that names the requirement (tested in the tasks sessions).
    "channels": ("channels.tasks",),
}

IMPORT_ALL = r"""
import importlib, pkgutil, sys
name, skip = sys.argv[1], tuple(sys.argv[2:])
try:
    import django
    from django.conf import settings
    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    )
    django.setup()
except ImportError:
    pass
package = importlib.import_module(name)
count = 1
for info in pkgutil.walk_packages(package.__path__, name + "."):
    if info.name.startswith(skip) if skip else False:
        continue
    # __main__ runs a program when imported; tests are not shipped API.
    if ".tests" in info.name or info.name.endswith(".__main__"):
        continue
    importlib.import_module(info.name)
    count += 1
print(f"{name}: imported {count} modules")
"""


def run(*args: str | Path, cwd: Path | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=cwd)


def readme_install_line(package_dir: Path) -> list[str]:
    """The arguments of the README's first from-a-checkout ``pip install`` line."""
    for line in (package_dir / "README.md").read_text().splitlines():
        command = line.split("#", 1)[0].strip()
        if command.startswith("pip install ./packages/asgiref"):
            return shlex.split(command)[2:]
    raise SystemExit(f"{package_dir}/README.md gives no 'pip install ./packages/asgiref ...' line")


def check_readme_install(name: str, tmp: Path) -> None:
    env_dir = tmp / f"readme-{name}"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", *readme_install_line(PACKAGES[name]), cwd=ROOT)
    run(python, "-c", f"import {name}; print({name}.__name__, {name}.__version__)")
    run(python, "-m", "pip", "check")


def main(selected: list[str]) -> int:
    names = selected or [n for n, p in PACKAGES.items() if (p / "pyproject.toml").exists()]
    with tempfile.TemporaryDirectory(prefix="asgi-builds-") as tmp:
        dist = Path(tmp) / "dist"
        for name in dict.fromkeys(["asgiref", *names]):
            run(sys.executable, "-m", "build", "--outdir", dist, PACKAGES[name])
        ours = sorted(dist.glob("asgiref-*.whl"))[-1]
        for name in names:
            env_dir = Path(tmp) / f"venv-{name}"
            venv.create(env_dir, with_pip=True)
            python = env_dir / "bin" / "python"
            wheel = sorted(dist.glob(f"{name}-*.whl"))[-1]
            # Our asgiref first and by file, so that nothing can pull PyPI's.
            run(python, "-m", "pip", "install", "-q", "--find-links", dist, ours, wheel)
            run(python, "-c", IMPORT_ALL, name, *OPTIONAL.get(name, ()))
            run(python, "-m", "pip", "check")
        for name in names:
            check_readme_install(name, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
