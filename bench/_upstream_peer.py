"""Upstream releases from PyPI, run beside this repository's packages in one benchmark.

Upstream packages live in a venv of their own under ``.cache/`` (built on first use with
``pip install``: needs the network once), so that they never meet this repository's
packages. A benchmark runs its upstream side as a *peer*: the same script, started with
that venv's interpreter and ``--peer CASE``, which answers each line ``N`` on stdin with
one measurement on stdout. The parent alternates its own rounds with the peer's, so
background load hits both sides alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["ASGIREF_UPSTREAM", "Peer", "build_venv", "serve_peer"]

CACHE = Path(__file__).resolve().parent.parent / ".cache"
#: (venv name, pins) of the asgiref benchmarks' upstream: asgiref 3.13.0, and Channels 4.3.2
#: for the in-memory layer (asgiref 3 has none).
ASGIREF_UPSTREAM = ("bench-upstream-asgiref", "asgiref==3.13.0 channels==4.3.2 django>=5.2,<6")


def build_venv(name: str, pins: str, rebuild: bool = False) -> str:
    """The interpreter of venv ``.cache/<name>`` holding ``pins`` (space-separated
    requirements); built when missing or when its pins changed."""
    directory = CACHE / name
    python = directory / "bin" / "python"
    marker = directory / "pins.txt"
    if not rebuild and python.exists() and marker.exists() and marker.read_text() == pins:
        return str(python)
    print(f"# building {directory} ({pins})", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(directory)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *pins.split()], check=True)
    marker.write_text(pins)
    return str(python)


class Peer:
    """A benchmark script running one case in the upstream venv, measured on demand."""

    def __init__(self, script: str, case: str, python: str) -> None:
        self.case = case
        # The peer must import the upstream packages only: cwd outside the repository, and
        # no PYTHONPATH (one pointing at this repository's sources would win over the venv).
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        self.process = subprocess.Popen(
            [python, script, "--peer", case],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(python).parent,
            env=env,
        )
        banner = self._line()
        if not banner.startswith("ready "):
            raise RuntimeError(f"upstream peer {case!r} did not start: {banner!r}")
        #: What the peer imported, e.g. ``asgiref 3.13.0``.
        self.versions = banner.removeprefix("ready ")

    def _line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def measure(self, size: int) -> float:
        """One measurement of the case at ``size`` (its unit is the case's own)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{size}\n")
        self.process.stdin.flush()
        return float(self._line())

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(30)


def serve_peer(versions: str, measure: Callable[[int], float]) -> None:
    """The peer's side: announce ``versions``, then answer each size with a measurement."""
    print(f"ready {versions}", flush=True)
    for line in sys.stdin:
        print(repr(measure(int(line))), flush=True)
