"""Run Django's own ASGI and async test modules against this repository's asgiref.

    python scripts/django_tests.py --django 6.1 --python python3.12
    python scripts/django_tests.py --django 5.2 --modules asgi async handlers

Steps (each command is printed before it runs):

1. download Django's sdist for the newest release of the series (``pip download
   --no-binary :all: --no-deps``) into the cache directory, unless it is cached already; if
   the series has no final release yet, the newest pre-release is used and the script says
   so;
2. unpack it;
3. create a virtualenv with the chosen Python, install our asgiref from packages/asgiref,
   then that Django with ``--no-deps`` (so pip never resolves PyPI's asgiref) and the few
   requirements the selected test modules need;
4. check that the asgiref the venv imports is ours, then run
   ``tests/runtests.py --parallel N <modules>``.

The exit status is runtests.py's. Needs network access (or a configured index) only for the
first download and the venv's requirements.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASGIREF = ROOT / "packages" / "asgiref"
DEFAULT_MODULES = [
    "asgi",
    "async",
    "handlers",
    "deprecation",
    "decorators",
    "signals",
    "middleware_exceptions",
]
# What Django's runtests needs for these modules besides Django itself: its own runtime
# dependency sqlparse (installed explicitly because Django goes in with --no-deps) and tblib
# (tracebacks from parallel workers).
TEST_REQUIREMENTS = ["sqlparse>=0.3.1", "tblib>=1.5"]
# Django series -> oldest Python it supports.
MIN_PYTHON = {"4": (3, 8), "5": (3, 10), "6": (3, 12)}


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    cwd = kwargs.get("cwd")
    where = f"(in {cwd}) " if cwd else ""
    print(f"+ {where}{shlex.join(command)}", flush=True)
    return subprocess.run(command, check=True, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def python_version(python: str) -> tuple[int, int]:
    out = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[0]), int(out[1])


def version_key(version: str) -> tuple[int, ...]:
    parts = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?(?:(a|b|rc)(\d+))?$", version)
    if parts is None:
        return (0,)
    major, minor, micro, stage, number = parts.groups()
    stage_rank = {"a": 0, "b": 1, "rc": 2, None: 3}[stage]
    return (int(major), int(minor), int(micro or 0), stage_rank, int(number or 0))


def cached_sdist(cache: Path, series: str) -> Path | None:
    pattern = re.compile(rf"[Dd]jango-({re.escape(series)}(?:\.\d+)?(?:(?:a|b|rc)\d+)?)\.tar\.gz$")
    found = [
        (version_key(m.group(1)), p) for p in cache.glob("*.tar.gz") if (m := pattern.match(p.name))
    ]
    return max(found)[1] if found else None


def download_sdist(python: str, series: str, cache: Path) -> Path:
    """The sdist of the newest release of ``series`` (pre-release only if no final one)."""
    base = ["-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-d", str(cache)]
    spec = series if series.count(".") >= 2 else f"{series}.*"
    try:
        run([python, *base, f"django=={spec}"])
    except subprocess.CalledProcessError:
        print(f"No final Django {series} release found; using the newest pre-release.")
        upper = f"{series}.999" if series.count(".") == 1 else series
        run([python, *base, "--pre", f"django>={series}a0,<={upper}"])
    sdist = cached_sdist(cache, series)
    if sdist is None:
        raise SystemExit(f"pip download did not leave a Django {series} sdist in {cache}")
    return sdist


def unpack(sdist: Path, cache: Path) -> Path:
    target = cache / sdist.name.removesuffix(".tar.gz")
    if not (target / "tests" / "runtests.py").exists():
        print(f"+ unpack {sdist} -> {cache}", flush=True)
        with tarfile.open(sdist) as archive:
            archive.extractall(cache, filter="data")
        # Normalise the directory name (sdists may use a lower-case "django-").
        unpacked = next(
            p for p in cache.iterdir() if p.is_dir() and p.name.lower() == target.name.lower()
        )
        if unpacked != target:
            unpacked.rename(target)
    return target


def prepare_venv(python: str, venv: Path, django_dir: Path) -> Path:
    venv_python = venv / "bin" / "python"
    marker = venv / ".django-source"
    if not venv_python.exists():
        run([python, "-m", "venv", str(venv)])
    pip = [str(venv_python), "-m", "pip", "install", "--quiet"]
    # Our asgiref first and always fresh (it is what is being tested); Django without its
    # dependencies so that pip has no reason to look at PyPI's asgiref.
    run([*pip, "--force-reinstall", "--no-deps", str(ASGIREF)])
    if not marker.exists() or marker.read_text() != str(django_dir):
        run([*pip, "--no-deps", str(django_dir)])
        marker.write_text(str(django_dir))
    run([*pip, *TEST_REQUIREMENTS])
    return venv_python


def check_asgiref(venv_python: Path) -> None:
    probe = (
        "import asgiref, asgiref.sync, importlib.util, sys;"
        "ours = importlib.util.find_spec('asgiref._async_to_sync') is not None;"
        "print(asgiref.__version__, asgiref.__file__, ours)"
    )
    out = run([str(venv_python), "-c", probe], capture_output=True).stdout.split()
    expected = re.search(
        r'__version__ = "([^"]+)"', (ASGIREF / "src/asgiref/__init__.py").read_text()
    )
    print(f"asgiref in the test venv: version {out[0]} at {out[1]}")
    if out[2] != "True" or expected is None or out[0] != expected.group(1):
        raise SystemExit("The test venv does not import this repository's asgiref; refusing to run")


# Django 6.1's deprecation.test_warn_about_implementation expects the line number CPython
# 3.12.x (later patch releases) and 3.13 report for a frame paused inside a parenthesised,
# multi-line ``with``; early 3.12 releases (3.12.1 here) report the ``with`` line instead.
# The module does not touch asgiref, so on such an interpreter it is left out, loudly.
_LINENO_PROBE = """
import inspect
from contextlib import contextmanager, nullcontext
@contextmanager
def probe():
    caller = inspect.currentframe().f_back.f_back
    yield
    print(caller.f_lineno - caller.f_code.co_firstlineno)
def run():
    with (
        nullcontext(),
        probe(),
    ):
        pass
run()
"""
_LINENO_SENSITIVE = "test_warn_about_implementation"


def adjust_modules(python: str, tests_dir: Path, modules: list[str]) -> list[str]:
    sensitive = tests_dir / "deprecation" / f"{_LINENO_SENSITIVE}.py"
    if "deprecation" not in modules or not sensitive.exists():
        return modules
    probe = subprocess.run([python, "-c", _LINENO_PROBE], capture_output=True, text=True)
    if probe.stdout.strip() == "3":
        return modules
    others = sorted(
        f"deprecation.{p.stem}"
        for p in (tests_dir / "deprecation").glob("test*.py")
        if p.stem != _LINENO_SENSITIVE
    )
    print(
        f"NOTE: {python} reports the 'with' line for frames inside a multi-line 'with' "
        f"(an early-3.12 CPython behaviour), which deprecation.{_LINENO_SENSITIVE} cannot "
        "pass with any asgiref; running the other deprecation modules instead: " + " ".join(others)
    )
    index = modules.index("deprecation")
    return [*modules[:index], *others, *modules[index + 1 :]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--django", required=True, help="series such as 5.2 or 6.1, or an exact version"
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter for the test venv")
    parser.add_argument("--modules", nargs="+", default=DEFAULT_MODULES)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "asgiref-django-tests",
    )
    parser.add_argument("--refresh", action="store_true", help="download the sdist again")
    return parser.parse_args()


def require_python(python: str, django: str) -> tuple[int, int]:
    have = python_version(python)
    need = MIN_PYTHON.get(django.split(".")[0], (3, 10))
    if have < need:
        raise SystemExit(
            f"Django {django} needs Python >= {need[0]}.{need[1]}, "
            f"but {python} is {have[0]}.{have[1]}; pass --python python{need[0]}.{need[1]}"
        )
    return have


def django_sources(python: str, django: str, cache: Path, refresh: bool) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    sdist = None if refresh else cached_sdist(cache, django)
    if sdist is None:
        sdist = download_sdist(python, django, cache)
    else:
        print(f"Using cached {sdist}")
    django_dir = unpack(sdist, cache)
    print(f"Django sources: {django_dir}")
    return django_dir


def main() -> int:
    args = parse_args()
    have = require_python(args.python, args.django)
    django_dir = django_sources(args.python, args.django, args.cache, args.refresh)
    venv = args.cache / f"venv-{django_dir.name}-py{have[0]}.{have[1]}"
    venv_python = prepare_venv(args.python, venv, django_dir)
    check_asgiref(venv_python)
    modules = adjust_modules(args.python, django_dir / "tests", args.modules)
    runtests = ["runtests.py", "--parallel", str(args.parallel), *modules]
    try:
        run([str(venv_python), "-W", "error::RuntimeWarning", *runtests], cwd=django_dir / "tests")
    except subprocess.CalledProcessError as failure:
        print(f"Django's tests failed (exit status {failure.returncode})")
        return failure.returncode or 1
    print(f"Django {django_dir.name} {' '.join(modules)}: passed against our asgiref")
    return 0


if __name__ == "__main__":
    sys.exit(main())
