"""The headline benchmark: a chat message broadcast to every socket of a room, end to end.

    python bench/chat_broadcast.py                    # 100 and 1,000 sockets, 3 rounds
    python bench/chat_broadcast.py --sockets 20 --broadcasts 3 --rounds 1 --no-upstream  # smoke

The server (CPU 0) runs the tutorial's ``AsyncWebsocketConsumer`` chat room on the Redis layer
(bench/chat_broadcast/chat_app.py). The load client (CPU 1, bench/chat_broadcast/load_client.py)
opens N sockets into one room; one socket sends and the client times until every socket has
the message. Each measurement is ``--warmup`` untimed broadcasts then ``--broadcasts`` timed
ones; the client checks that every socket got every message exactly once, in order, and fails
the run otherwise.

Stacks, all started at once and measured in turn (the order rotates each round), medians of
the rounds reported with ratios:

* ``ours``: daphne + channels + asgi_redis from packages/;
* ``upstream``: daphne 4.2.3 + channels 4.3.2 + channels_redis 4.3.0 + asgiref 3.13.0 from
  PyPI, in a venv this script builds once under .cache/bench-upstream (``--no-upstream`` skips);
* ``uvicorn``: uvicorn (uvloop, httptools, websockets) serving our channels + asgi_redis.

Redis: 127.0.0.1:6379 db 13 by default (``--redis-url``); every stack uses its own key prefix
and only those keys are deleted afterwards. Results: .cache/bench-results/chat_broadcast.json
and one PNG chart per workload (with matplotlib installed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from _results import RESULTS_DIR, Series, Workload, add_output_options, machine, publish
from _upstream_peer import build_venv
from daphne_bench import free_port, process_cpu, wait_listening

HERE = Path(__file__).resolve().parent / "chat_broadcast"
ROOT = HERE.parent.parent
UPSTREAM_DIR = ROOT / ".cache" / "bench-upstream"
UPSTREAM_PINS = ["channels==4.3.2", "daphne==4.2.3", "asgiref==3.13.0", "channels_redis==4.3.0"]
# channels_redis 4.3.0 came out with redis-py 6; on redis-py 8 its pool refuses more than 100
# connections and its receive loops time out under load, failing the run rather than the
# comparison.
UPSTREAM_PINS += ["redis>=6,<7"]
SERVER_CPU, CLIENT_CPU = "0", "1"


@dataclass(frozen=True)
class Stack:
    name: str
    label: str
    role: str  # ours / upstream / peer (bench/_results.py colours)
    python: str
    server: str  # daphne or uvicorn
    layer: str

    def command(self, port: int) -> list[str]:
        app = "chat_app:application"
        if self.server == "daphne":
            timeout = ["--websocket_connect_timeout", "60"]
            return [self.python, "-m", "daphne", "-v", "0", *timeout, "-p", str(port), app]
        quiet = ["--log-level", "warning", "--no-access-log"]
        return [self.python, "-m", "uvicorn", *quiet, "--port", str(port), app]


def upstream_python(rebuild: bool = False) -> str:
    """The upstream venv's python, built on first use (PyPI must be reachable then)."""
    django = f"django=={metadata.version('django')}"  # the same Django as ours
    return build_venv(UPSTREAM_DIR.name, " ".join([*UPSTREAM_PINS, django]), rebuild)


def stacks(args: argparse.Namespace) -> list[Stack]:
    ours = "asgi_redis.core.RedisChannelLayer"
    chosen = [Stack("ours", "ours (daphne)", "ours", sys.executable, "daphne", ours)]
    if args.upstream:
        upstream = upstream_python(args.rebuild_upstream)
        layer = "channels_redis.core.RedisChannelLayer"
        chosen.append(Stack("upstream", "upstream 4.x", "upstream", upstream, "daphne", layer))
    if args.uvicorn:
        chosen.append(
            Stack("uvicorn", "uvicorn + our channels", "peer", sys.executable, "uvicorn", ours)
        )
    return chosen


@contextlib.contextmanager
def serving(
    stack: Stack, args: argparse.Namespace, prefix: str, log: Path
) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {
        **os.environ,
        "BENCH_LAYER_BACKEND": stack.layer,
        "BENCH_REDIS_URL": args.redis_url,
        "BENCH_LAYER_PREFIX": prefix,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    with log.open("w") as sink:
        process = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *stack.command(port)],
            cwd=HERE,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_listening(port)
            yield port, process.pid  # taskset execs the server: same pid
        finally:
            process.terminate()
            process.wait(10)


def wait_idle(pid: int, limit_s: float = 15.0) -> None:
    """Wait until the server stops burning CPU (the last round's disconnects are done)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = process_cpu(pid)
        time.sleep(0.25)
        if process_cpu(pid) - before < 0.01:
            return


def measure(port: int, room: str, sockets: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        "taskset", "-c", CLIENT_CPU, sys.executable, str(HERE / "load_client.py"),
        "--port", str(port), "--room", room, "--sockets", str(sockets),
        "--broadcasts", str(args.broadcasts), "--warmup", str(args.warmup),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"chat_broadcast: the load client failed on room {room}:\n{done.stderr}")
    return dict(json.loads(done.stdout))


def percentile(values: list[float], q: float) -> float:
    """The *q*-th percentile (0-100), linear between closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    latencies = [value * 1000 for value in result["latencies_s"]]
    return {
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "connects_per_s": result["connects_per_s"],
        "client_cpu_share": result["client_cpu_share"],
        "client_cpu_ms_per_broadcast": result["client_cpu_ms_per_broadcast"],
        "latencies_ms": [round(value, 2) for value in latencies],
    }


def run_rounds(
    chosen: list[Stack], args: argparse.Namespace
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Per socket count, per stack: one summary per round."""
    runs: dict[int, dict[str, list[dict[str, Any]]]] = {
        n: {s.name: [] for s in chosen} for n in args.sockets
    }
    logs = RESULTS_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    tag = f"bench-chat-{os.getpid()}"
    with contextlib.ExitStack() as stack:
        stack.callback(flush_keys, args.redis_url, tag)
        servers = {
            s.name: stack.enter_context(
                serving(s, args, f"{tag}-{s.name}", logs / f"chat_broadcast-{s.name}.log")
            )
            for s in chosen
        }
        for sockets in args.sockets:
            for index in range(args.rounds):
                turn = index % len(chosen)
                for s in chosen[turn:] + chosen[:turn]:
                    port, pid = servers[s.name]
                    wait_idle(pid)
                    cpu_before, load = process_cpu(pid), os.getloadavg()[0]
                    result = measure(port, f"n{sockets}r{index}{s.name}", sockets, args)
                    summary = summarise(result)
                    summary["server_cpu_s"] = process_cpu(pid) - cpu_before
                    summary["loadavg_1m"] = load
                    runs[sockets][s.name].append(summary)
                    print(
                        f"{sockets:5} sockets round {index + 1} {s.name:9}"
                        f" p50 {summary['p50_ms']:7.1f} ms  p99 {summary['p99_ms']:7.1f} ms"
                        f"  connects/s {summary['connects_per_s']:7.0f}"
                        f"  client CPU {summary['client_cpu_share']:4.0%}  load {load:.2f}",
                        file=sys.stderr,
                    )
    return runs


def flush_keys(redis_url: str, tag: str) -> None:
    """Delete this run's keys, and only them (every stack's prefix starts with *tag*)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{tag}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    numbers = [key for key, value in runs[0].items() if isinstance(value, (int, float))]
    return {key: float(statistics.median(run[key] for run in runs)) for key in numbers}


def report(chosen: list[Stack], runs: dict[int, dict[str, list[dict[str, Any]]]]) -> list[Workload]:
    names = [s.name for s in chosen]
    print(
        f"\n{'sockets':>7} {'metric':15}"
        + "".join(f"{n:>10}" for n in names)
        + "".join(f"{'ours/' + n:>14}" for n in names[1:])
    )
    workloads = []
    connect: dict[str, dict[str, float]] = {s.name: {} for s in chosen}
    for sockets, per_stack in runs.items():
        table = {name: medians(per_stack[name]) for name in names}
        for metric in ("p50_ms", "p99_ms", "connects_per_s", "client_cpu_share"):
            row = [table[name][metric] for name in names]
            ratios = "".join(f"{row[0] / value:14.2f}" for value in row[1:])
            print(f"{sockets:7} {metric:15}" + "".join(f"{v:10.2f}" for v in row) + ratios)
        workloads.append(
            Workload(
                name=f"chat broadcast to {sockets:,} sockets, time until all received",
                unit="ms",
                lower_is_better=True,
                metrics=["p50", "p99"],
                series=[
                    Series(
                        s.label,
                        s.role,
                        {"p50": table[s.name]["p50_ms"], "p99": table[s.name]["p99_ms"]},
                    )
                    for s in chosen
                ],
                notes={"medians": table, "rounds": per_stack},
            )
        )
        for s in chosen:
            connect[s.name][f"{sockets:,} sockets"] = table[s.name]["connects_per_s"]
    workloads.append(
        Workload(
            name="chat room connect rate",
            unit="sockets/s",
            lower_is_better=False,
            metrics=list(next(iter(connect.values()))),
            series=[Series(s.label, s.role, connect[s.name]) for s in chosen],
        )
    )
    print("ours/X: for p50/p99 below 1 favours ours; for connects/s above 1 does")
    return workloads


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--broadcasts", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument("--no-upstream", dest="upstream", action="store_false")
    parser.add_argument("--no-uvicorn", dest="uvicorn", action="store_false")
    parser.add_argument("--rebuild-upstream", action="store_true")
    add_output_options(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    chosen = stacks(args)
    before = machine()
    runs = run_rounds(chosen, args)
    workloads = report(chosen, runs)
    publish(
        "chat_broadcast",
        workloads,
        before,
        args,
        command="python bench/chat_broadcast.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        stacks={s.name: {"label": s.label, "server": s.server, "layer": s.layer} for s in chosen},
        settings={k: v for k, v in vars(args).items() if k != "output"},
    )


if __name__ == "__main__":
    main()
