"""The performance goals' table: run each goal's benchmark N times and report the medians.

    python bench/goals.py                    # 3 runs of every goal's benchmark
    python bench/goals.py --only daphne_bench --only django_views --runs 5
    python bench/goals.py --list             # the goal table, commands and estimated time
    python bench/goals.py --quick --runs 1   # smoke: small options, a couple of minutes

Each benchmark runs as a subprocess with the same command in every run (in ``--quick`` mode
with small options, so its figures only prove the pipeline works). The load average is
recorded before and after each. Every goal's figure is read from the JSON the run wrote
(bench/_results.py), through :data:`GOALS`: which benchmark, which JSON, and a function
that finds the figure in it by workload, series role and metric names. A benchmark that
fails, or a figure that is missing, is reported as such; the other goals still run.

Output: ``<--output>/goals.json`` (every run's figures, load averages, exit codes and log
paths), ``<--output>/goals.md`` (the Markdown table, also printed), and per run the
benchmarks' own JSON, charts and logs under ``<--output>/goals-runs/<run>/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _goal_figures import Record, column_ratios, metric, ratio, series, workload
from _results import RESULTS_DIR, machine

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    """One benchmark command: its script, the options for the goals run and for ``--quick``,
    the JSON names it may write (first found wins), and its estimated seconds per run."""

    script: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    json_names: tuple[str, ...]
    estimate_s: int

    def command(self, quick: bool) -> list[str]:
        return [str(Path("bench") / self.script), *(self.quick_args if quick else self.args)]


@dataclass(frozen=True)
class Goal:
    """One row of the goal table: a figure from one benchmark's JSON and its threshold."""

    name: str
    bench: str  # a key of BENCHES
    metric: str
    at_most: bool  # the figure must be <= threshold (else >=)
    threshold: float
    extract: Callable[[Record], float]

    def met(self, value: float) -> bool:
        return value <= self.threshold if self.at_most else value >= self.threshold

    @property
    def target(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.threshold:g}"


def chat(quantile: str) -> Callable[[Record], float]:
    def extract(record: Record) -> float:
        return metric(series(workload(record, "chat broadcast to 1000 sockets"), "ours"), quantile)

    return extract


def redis_loops(record: Record) -> float:
    chosen = workload(record, "group_send to 1000 members", exclude=("pubsub", "fernet"))
    return metric(series(chosen, "ours"), "p50")


def redis_loops_upstream(record: Record) -> float:
    chosen = workload(record, "group_send to 1000 members", exclude=("pubsub", "fernet"))
    return metric(series(chosen, "upstream"), "p50") / metric(series(chosen, "ours"), "p50")


def a2s(record: Record) -> float:
    """The median of per-round ratios when asgiref_sync recorded it (the steadier figure on
    a loaded machine: rounds alternate with upstream), else the ratio of the rates."""
    chosen = workload(record, "async_to_sync from a plain thread")
    headline = chosen.get("notes", {}).get("headline", {})
    if headline.get("ratio") is not None:
        return float(headline["ratio"])
    return metric(series(chosen, "ours")) / metric(series(chosen, "upstream"))


#: Milliseconds per unit of a workload.
MS_PER = {"ms": 1.0, "s": 1e3, "µs": 1e-3, "us": 1e-3, "ns": 1e-6}


def memory_fan_out(record: Record) -> float:
    """Ours at 1,000 members in asgiref_layers' group_send workload, in milliseconds."""
    chosen = workload(record, "in-memory", "group_send")
    values = series(chosen, "ours")
    key = next((k for k in values if k.replace(",", "").endswith(" 1000")), "fan-out 1000")
    return values[key] * MS_PER[str(chosen.get("unit"))]


def ipc_vs_redis(record: Record) -> float:
    chosen = workload(record, "normal-channel echo round trip")
    return metric(series(chosen, "ours"), "p50") / metric(series(chosen, label="asgi_redis"), "p50")


# The table ----------------------------------------------------------------------------

BENCHES: dict[str, Bench] = {
    "chat_broadcast": Bench(
        "chat_broadcast.py",
        ("--sockets", "1000"),
        (
            *("--sockets", "1000", "--broadcasts", "3", "--warmup", "1", "--rounds", "1"),
            *("--no-upstream", "--no-uvicorn"),
        ),
        ("chat_broadcast.json",),
        170,
    ),
    "daphne_bench": Bench(
        "daphne_bench.py",
        ("--seconds", "3"),
        ("--seconds", "1", "--rounds", "1", "--connections", "10"),
        ("daphne_bench.json",),
        200,
    ),
    "django_views": Bench(
        "django_views.py", (), ("--seconds", "1", "--rounds", "1"), ("django_views.json",), 90
    ),
    "asgiref_sync": Bench(
        "asgiref_sync.py", (), ("--calls", "1000", "--repeat", "1"), ("asgiref_sync.json",), 100
    ),
    "asgiref_layers": Bench(
        "asgiref_layers.py", (), ("--quick", "--repeat", "1"), ("asgiref_layers.json",), 40
    ),
    "asgi_redis_bench": Bench(
        "asgi_redis_bench.py",
        ("--only", "loops,round-trips"),
        ("--only", "loops,round-trips", "--rounds", "1", "--members", "1000"),
        ("asgi_redis_bench.json",),
        60,
    ),
    "asgi_ipc_bench": Bench(
        "asgi_ipc_bench.py",
        (),
        ("--rounds", "200", "--messages", "2000", "--idle", "0.5"),
        ("asgi_ipc.json", "asgi_ipc-echo-runs.json"),
        40,
    ),
    "daphne_ws_memory": Bench(
        "daphne_ws_memory.py", (), ("--connections", "30"), ("daphne_ws_memory.json",), 20
    ),
}

GOALS: list[Goal] = [
    Goal("chat broadcast 1,000 sockets p99", "chat_broadcast", "ms", True, 150, chat("p99")),
    Goal("chat broadcast 1,000 sockets p50", "chat_broadcast", "ms", True, 100, chat("p50")),
    Goal(
        "HTTP raw ASGI hello req/s",
        "daphne_bench",
        "ours / uvicorn+httptools",
        False,
        1,
        lambda r: ratio(r, ["http hello-world"], "peer"),
    ),
    Goal(
        "Django async view req/s",
        "django_views",
        "ours / uvicorn with our asgiref",
        False,
        1,
        lambda r: ratio(r, ["django async view"], "peer"),
    ),
    Goal(
        "async_to_sync from a plain thread calls/s",
        "asgiref_sync",
        "ours / upstream 3.13.0",
        False,
        10,
        a2s,
    ),
    Goal(
        "in-memory group_send to 1,000 members", "asgiref_layers", "ms", True, 5.5, memory_fan_out
    ),
    Goal(
        "Redis group_send to 1,000 members, consumer loop each",
        "asgi_redis_bench",
        "p50 ms",
        True,
        15,
        redis_loops,
    ),
    Goal(
        "IPC normal-channel round trip p50",
        "asgi_ipc_bench",
        "asgi_ipc / asgi_redis",
        True,
        0.33,
        ipc_vs_redis,
    ),
    Goal(
        "stay ahead: WS echo msgs/s vs best uvicorn",
        "daphne_bench",
        "ours / best uvicorn, lowest column",
        False,
        1,
        lambda r: min(column_ratios(r, ["ws echo msgs/s"], "peer")),
    ),
    Goal(
        "stay ahead: WS handshakes/s vs uvicorn/hypercorn",
        "daphne_bench",
        "ours / best peer",
        False,
        1,
        lambda r: ratio(r, ["ws handshakes/s"], "peer"),
    ),
    Goal(
        "stay ahead: Django sync view req/s vs upstream",
        "django_views",
        "ours / upstream daphne",
        False,
        1,
        lambda r: ratio(r, ["django sync view"], "upstream"),
    ),
    Goal(
        "stay ahead: Redis group_send loops vs upstream",
        "asgi_redis_bench",
        "upstream p50 / ours p50",
        False,
        1,
        redis_loops_upstream,
    ),
    Goal(
        "stay ahead: Redis round trips vs upstream",
        "asgi_redis_bench",
        "upstream p50 / ours p50",
        False,
        1,
        lambda r: 1 / ratio(r, ["round trip to a worker process"], "upstream", "p50"),
    ),
    Goal(
        "stay ahead: memory per WebSocket vs uvicorn",
        "daphne_ws_memory",
        "ours / uvicorn KiB, highest column",
        True,
        1,
        lambda r: max(column_ratios(r, ["memory per idle websocket"], "peer")),
    ),
]


# Running ------------------------------------------------------------------------------


def takes_output(script: str) -> bool:
    """Whether *script* has the ``--output`` option (else it writes to .cache/bench-results)."""
    path = HERE / script
    if not path.exists():
        return False
    source = path.read_text()
    return '"--output"' in source or "add_output_options(" in source


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def run_bench(
    name: str, bench: Bench, quick: bool, directory: Path, timeout: float | None = None
) -> Record:
    """Run one benchmark once; return its outcome with the JSON record it wrote, if any."""
    directory.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, *bench.command(quick)]
    if takes_output(bench.script):
        argv += ["--output", str(directory)]
    log = directory / f"{name}.log"
    outcome: Record = {"load_before": load1(), "log": str(log), "record": None}
    started = time.time()
    with log.open("w") as out:
        # A session of its own, so that a timeout ends the servers it started as well.
        process = subprocess.Popen(
            argv, cwd=HERE.parent, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            limit = timeout or (300 if quick else max(600, 5 * bench.estimate_s))
            outcome["returncode"] = process.wait(limit)
        except subprocess.TimeoutExpired:
            outcome["returncode"] = "timeout"
            end_group(process)
        except KeyboardInterrupt:  # its own session does not get the terminal's Ctrl-C
            end_group(process)
            raise
    outcome["seconds"] = round(time.time() - started, 1)
    outcome["load_after"] = load1()
    for json_name in bench.json_names:
        for place in (directory, RESULTS_DIR):
            path = place / json_name
            if path.exists() and path.stat().st_mtime >= started:
                outcome["json"] = str(path)
                outcome["record"] = json.loads(path.read_text())
                break
        if outcome["record"] is not None:
            break
    if outcome["returncode"] != 0:
        outcome["error"] = f"exit {outcome['returncode']}: " + tail(log)
    elif outcome["record"] is None:
        outcome["error"] = f"wrote none of {', '.join(bench.json_names)}"
    return outcome


def end_group(process: subprocess.Popen[bytes]) -> None:
    """Terminate *process* and everything in its process group; kill what is left after 10 s."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 30)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(log: Path, lines: int = 3) -> str:
    text = log.read_text(errors="replace").strip().splitlines()
    return " | ".join(text[-lines:])


def figure(goal: Goal, outcome: Record) -> tuple[float | None, str]:
    """The goal's figure from one run's record, or None and why not."""
    if outcome.get("error"):
        return None, f"failed: {outcome['error']}"
    try:
        return goal.extract(outcome["record"]), ""
    except (KeyError, ValueError, TypeError, ZeroDivisionError, IndexError) as error:
        return None, f"no figure: {error}"


def evaluate(goals: list[Goal], outcomes: dict[str, list[Record]], quick: bool) -> list[Record]:
    rows = []
    for goal in goals:
        bench = BENCHES[goal.bench]
        values, problems = [], []
        for outcome in outcomes[goal.bench]:
            value, problem = figure(goal, outcome)
            values.append(value)
            if problem:
                problems.append(problem)
        present = [v for v in values if v is not None]
        median = statistics.median(present) if present else None
        if median is None:
            verdict = "failed" if any(p.startswith("failed") for p in problems) else "no figure"
        else:
            verdict = "met" if goal.met(median) else "not met"
        rows.append(
            {
                "goal": goal.name,
                "metric": goal.metric,
                "target": goal.target,
                "values": values,
                "median": median,
                "result": verdict,
                "problems": problems,
                "load": [(o["load_before"], o["load_after"]) for o in outcomes[goal.bench]],
                "command": shlex.join(["python", *bench.command(quick)]),
            }
        )
    return rows


def markdown(rows: list[Record], runs: int, quick: bool) -> str:
    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.4g}"

    head = ["goal", "metric", *(f"run {i + 1}" for i in range(runs)), "median", "target"]
    head += ["load avg (1 min) before→after", "result", "command"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        load = "; ".join(f"{a:g}→{b:g}" for a, b in row["load"])
        cells = [row["goal"], row["metric"], *map(number, row["values"]), number(row["median"])]
        cells += [row["target"], load, row["result"], f"`{row['command']}`"]
        lines.append("| " + " | ".join(cells) + " |")
    if quick:
        lines.insert(0, "Quick mode: smoke options, the figures only prove the pipeline.\n")
    notes = [f"- {row['goal']}: {p}" for row in rows for p in dict.fromkeys(row["problems"])]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def estimate(names: list[str], runs: int) -> str:
    """The estimated wall time of a default run, and a split when it exceeds 30 minutes."""
    total = sum(BENCHES[name].estimate_s for name in names) * runs
    text = f"estimated time: {total / 60:.0f} min ({runs} runs of {', '.join(names)})"
    if total > 30 * 60:
        half, first = 0, []
        for name in names:
            if half < total / runs / 2:
                first.append(name)
                half += BENCHES[name].estimate_s
        second = [name for name in names if name not in first]
        commands = [
            " ".join(["python bench/goals.py", *(f"--only {n}" for n in part)])
            + f" --output .cache/bench-results/goals-{index}"
            for index, part in enumerate((first, second), 1)
            if part
        ]
        text += "; over 30 min, so split it:\n  " + "\n  ".join(commands)
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each benchmark (3)")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHES), help="this benchmark (repeatable)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    parser.add_argument("--quick", action="store_true", help="small options: a smoke test")
    parser.add_argument("--list", action="store_true", help="print the table and stop")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [name for name in BENCHES if not args.only or name in args.only]
    goals = [goal for goal in GOALS if goal.bench in names]
    print(estimate(names, args.runs) + (" (less with --quick)" if args.quick else ""))
    if args.list:
        for goal in goals:
            command = shlex.join(["python", *BENCHES[goal.bench].command(args.quick)])
            print(f"{goal.name}: {goal.metric} {goal.target}  ({command})")
        return 0
    before = machine()
    outcomes: dict[str, list[Record]] = {name: [] for name in names}
    for run in range(args.runs):
        for name in names:  # each run goes through every benchmark: drift hits all alike
            outcome = run_bench(
                name, BENCHES[name], args.quick, args.output / "goals-runs" / str(run + 1)
            )
            state = outcome.get("error") or f"ok, {outcome['seconds']} s"
            load = f"{outcome['load_before']}→{outcome['load_after']}"
            print(f"run {run + 1} {name}: {state} (load {load})", flush=True)
            outcomes[name].append(outcome)
    rows = evaluate(goals, outcomes, args.quick)
    table = markdown(rows, args.runs, args.quick)
    print("\n" + table)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "goals.md").write_text(table)
    runs = {
        name: [{k: v for k, v in o.items() if k != "record"} for o in outcome_list]
        for name, outcome_list in outcomes.items()
    }
    record = {
        "command": shlex.join(
            ["python", "bench/goals.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine_before": before,
        "machine_after": machine(),
        "quick": args.quick,
        "goals": rows,
        "benchmarks": runs,
    }
    (args.output / "goals.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"results: {args.output / 'goals.json'}, {args.output / 'goals.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
