"""Django views under daphne, against uvicorn on the same asgiref and against upstream.

    .venv/bin/python bench/django_views.py [--seconds 4] [--rounds 3] [--no-upstream]

The project is ``bench/daphne/django_app.py`` (``startproject``'s middleware, an async and
a sync view that touch neither the session nor the database). Three servers run at once,
pinned to CPU 0, and ``wrk`` (one thread, 64 connections) to CPU 1; measurements alternate
server by server for ``--rounds`` rounds and the medians are compared:

* ours: this repository's daphne and asgiref;
* uvicorn + httptools on this repository's asgiref (the issue's peer: the same Django and
  the same sync bridge, another server);
* upstream: daphne 4.2.3 on asgiref 3.13.0, from the venv ``bench/chat_broadcast.py``
  builds under ``.cache/bench-upstream`` (``--no-upstream`` skips it).

Beside each req/s figure is the server's own CPU time per request, which stays comparable
when the load client is the bottleneck. Results go to ``.cache/bench-results/django_views.json``
with one chart per view (matplotlib, when installed). The load average is recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from _results import Series, Workload, add_output_options, machine, publish
from chat_broadcast import upstream_python
from daphne_bench import free_port, pinned_server, process_cpu, wrk_seconds

HERE = Path(__file__).resolve().parent / "daphne"
APP = "django_app:application"
VIEWS = ("async", "sync")


def commands(upstream: str | None) -> dict[str, tuple[str, list[str]]]:
    """Each server's role and command line (without the port, which is appended)."""
    py = sys.executable
    quiet = ["--log-level", "warning", "--no-access-log", "--http", "httptools"]
    servers = {
        "ours (daphne)": ("ours", [py, "-m", "daphne", "-v", "0", APP, "-p"]),
        "uvicorn + our asgiref": ("peer", [py, "-m", "uvicorn", *quiet, APP, "--port"]),
    }
    if upstream is not None:
        servers["upstream daphne 4.2.3"] = (
            "upstream",
            [upstream, "-m", "daphne", "-v", "0", APP, "-p"],
        )
    return servers


@contextlib.contextmanager
def running(command: list[str]) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with pinned_server([*command, str(port)], port, HERE, env) as pid:
        yield port, pid


def load(port: int, view: str, seconds: float) -> tuple[float, int]:
    """Requests per second, and the number of non-2xx answers (which must be none)."""
    url = f"http://127.0.0.1:{port}/{view}"
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{wrk_seconds(seconds)}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = errors = None
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            rate = float(line.split()[1])
        if "Non-2xx or 3xx responses:" in line:
            errors = int(line.split()[-1])
    if rate is None:
        raise RuntimeError(f"unexpected wrk output: {out}")
    return rate, errors or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-upstream", dest="upstream", action="store_false")
    add_output_options(parser)
    args = parser.parse_args()
    machine_before = machine()
    servers = commands(upstream_python() if args.upstream else None)
    rates: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    with contextlib.ExitStack() as stack:
        ports = {name: stack.enter_context(running(cmd)) for name, (_, cmd) in servers.items()}
        for _ in range(args.rounds):
            for view in VIEWS:
                for name, (port, pid) in ports.items():
                    before = process_cpu(pid)
                    rate, errors = load(port, view, args.seconds)
                    if errors:
                        raise SystemExit(f"{name} answered {errors} /{view} requests with errors")
                    used = process_cpu(pid) - before
                    rates.setdefault((name, view), []).append(rate)
                    cpu.setdefault((name, view), []).append(
                        used * 1e6 / max(rate * wrk_seconds(args.seconds), 1)
                    )
    ours = "ours (daphne)"
    print(f"{args.rounds} rounds x {args.seconds:g} s, medians")
    print(f"{'view':6} {'server':24} {'req/s':>8} {'CPU us/req':>11} {'ours / this':>12}")
    workloads = []
    for view in VIEWS:
        medians = {name: statistics.median(rates[name, view]) for name in servers}
        cpus = {name: statistics.median(cpu[name, view]) for name in servers}
        for name in servers:
            ratio = medians[ours] / medians[name]
            print(f"{view:6} {name:24} {medians[name]:8.0f} {cpus[name]:11.0f} {ratio:12.2f}")
        workloads.append(
            Workload(
                name=f"Django {view} view, req/s",
                unit="req/s",
                lower_is_better=False,
                metrics=["req/s"],
                series=[
                    Series(name, role, {"req/s": medians[name]})
                    for name, (role, _) in servers.items()
                ],
                notes={"cpu_us_per_request": cpus},
            )
        )
    publish(
        "django_views",
        workloads,
        machine_before,
        args,
        command="python bench/django_views.py " + " ".join(sys.argv[1:]),
        rounds=args.rounds,
        seconds=args.seconds,
    )


if __name__ == "__main__":
    main()
