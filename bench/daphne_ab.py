"""daphne against itself at another commit, in one run: did a change cost or buy speed?

    .venv/bin/python bench/daphne_ab.py --ref fbfd92f [--rounds 5] [--seconds 4]

The other commit's daphne sources are checked out (``git worktree``) under
``.cache/daphne-ab/<ref>`` and put first on that server's ``PYTHONPATH``; everything else
(asgiref, Twisted, Autobahn, the interpreter) is shared, so only daphne differs. Both servers
run at once on CPU 0 and the load clients on CPU 1 (``wrk`` for HTTP, ``bench/daphne/ws_client.py``
for WebSockets). Rounds alternate between the two, and the report gives medians and the ratio
``this tree / ref`` of throughput and of the server's own CPU time per operation, which stays
comparable when the one-core client is the bottleneck. On a 2-core VM single rounds swing by a
few percent; use 5 rounds or more before reading a regression into a ratio.

Results: ``<--output>/daphne_ab.json`` and two charts (throughput, server CPU per operation);
this tree is drawn as ours, the other commit in the baseline's grey (role ``upstream``).

    .venv/bin/python bench/daphne_ab.py --ref HEAD~1 --rounds 1 --seconds 1  # smoke
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from _results import Series, Workload, add_output_options, machine, publish
from daphne_bench import HERE, free_port, pinned_server, process_cpu, wrk, wrk_seconds, ws_client

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "daphne-ab"


def checkout(ref: str) -> Path:
    """daphne's ``src`` directory at *ref* (a worktree made once per ref)."""
    target = CACHE / ref
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(target), ref], check=True
        )
    return target / "packages" / "daphne" / "src"


@contextlib.contextmanager
def serving(app: str, sources: Path | None) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if sources is not None:
        env["PYTHONPATH"] = str(sources)
    command = [sys.executable, "-m", "daphne", "-v", "0", "--websocket_connect_timeout", "60"]
    with pinned_server([*command, "-p", str(port), app], port, HERE, env) as pid:
        yield port, pid


def compare(
    app: str, ref_sources: Path, rounds: int, measure: Callable[[int], tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    """Median (rate, CPU µs per operation) of each side; *measure* gives (rate, operations)."""
    rates: dict[str, list[float]] = {"ref": [], "tree": []}
    cpu: dict[str, list[float]] = {"ref": [], "tree": []}
    with serving(app, ref_sources) as ref, serving(app, None) as tree:
        for _ in range(rounds):
            for side, (port, pid) in (("ref", ref), ("tree", tree)):
                before = process_cpu(pid)
                rate, operations = measure(port)
                rates[side].append(rate)
                cpu[side].append((process_cpu(pid) - before) * 1e6 / max(operations, 1))
    return {side: (statistics.median(rates[side]), statistics.median(cpu[side])) for side in rates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", required=True, help="the commit to compare with (git ref)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4)
    add_output_options(parser)
    args = parser.parse_args()
    before = machine()
    sources, s = checkout(args.ref), args.seconds

    def http(port: int) -> tuple[float, float]:
        rate = wrk(port, s)
        return rate, rate * wrk_seconds(s)

    def websocket(mode: str, connections: int) -> Callable[[int], tuple[float, float]]:
        def measure(port: int) -> tuple[float, float]:
            result = ws_client(port, mode, connections, s)
            rate = next(v for k, v in result.items() if k.endswith("_per_s"))
            return rate, rate * s

        return measure

    workloads = [
        ("HTTP hello-world", "HTTP", "apps:hello", http),
        ("WS echo, 1 connection", "WS 1", "apps:echo", websocket("echo", 1)),
        ("WS echo, 100 connections", "WS 100", "apps:echo", websocket("echo", 100)),
        ("WS echo, 1,000 connections", "WS 1,000", "apps:echo", websocket("echo", 1000)),
        ("WS handshakes, 20 at a time", "handshakes", "apps:echo", websocket("handshake", 20)),
    ]
    load = os.getloadavg()
    print(f"this tree against {args.ref}: {args.rounds} rounds x {s:g} s, medians; load {load}")
    header = ("workload", "ref /s", "tree /s", "ratio", "CPU us ref", "tree", "ratio")
    print("{:30} {:>9} {:>9} {:>6} {:>11} {:>6} {:>6}".format(*header))
    rates: dict[str, dict[str, float]] = {"tree": {}, "ref": {}}
    cpus: dict[str, dict[str, float]] = {"tree": {}, "ref": {}}
    for title, short, app, measure in workloads:
        result = compare(app, sources, args.rounds, measure)
        (ref_rate, ref_cpu), (tree_rate, tree_cpu) = result["ref"], result["tree"]
        for side in ("tree", "ref"):
            rates[side][short], cpus[side][short] = result[side]
        print(
            f"{title:30} {ref_rate:9.0f} {tree_rate:9.0f} {tree_rate / ref_rate:6.3f} "
            f"{ref_cpu:11.1f} {tree_cpu:6.1f} {tree_cpu / ref_cpu:6.3f}"
        )
    print(
        f"ratio = this tree / {args.ref} (throughput: above 1 is faster; CPU: below 1 is cheaper)"
    )
    charts = [
        Workload(
            name=f"this tree against {args.ref}, {name}",
            unit=unit,
            lower_is_better=lower,
            metrics=[short for _, short, _, _ in workloads],
            series=[
                Series("this tree", "ours", figures["tree"]),
                Series(f"daphne at {args.ref}", "upstream", figures["ref"]),
            ],
        )
        for name, unit, lower, figures in (
            ("throughput", "per s", False, rates),
            ("server CPU per operation", "us", True, cpus),
        )
    ]
    publish("daphne_ab", charts, before, args, ref=args.ref, rounds=args.rounds, seconds=s)


if __name__ == "__main__":
    main()
