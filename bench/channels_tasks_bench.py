"""Benchmark: django tasks through channels.tasks against a plain runworker channel.

Run from the repository root (needs Redis at 127.0.0.1:6379 or ASGI_REDIS_URL,
Django 6.0+, asgi_redis):

    python bench/channels_tasks_bench.py            # full run
    python bench/channels_tasks_bench.py --quick    # smaller counts

Results: ``<--output>/channels_tasks_bench.json`` and two charts (bench/_results.py); the
plain channel is drawn as the peer, both tasks rows as ours.

Both sides run the same async work (report the time it started) in a real
``manage.py runworker`` process on the same Redis layer, in this one run: the
*peer* is a plain ``AsyncConsumer`` on a named channel (``runworker
bench-plain``), the subject is ``@task`` enqueued with ``aenqueue`` and run by
``runworker --tasks``, without and with the result store (SQLite here).
Reported: throughput of a burst of N (first send to last report) and the
median enqueue-to-start latency of M sent one at a time, side by side with
the ratio (tasks / plain; for latency lower is better, for throughput higher).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _results import Series, Workload, add_output_options, machine, publish

HERE = Path(__file__).resolve().parent / "channels_tasks"


def _environment(store: bool, database: str) -> dict[str, str]:
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench_tasks_settings",
        BENCH_TASKS_DB=database,
        BENCH_TASKS_PREFIX=os.environ.get("BENCH_TASKS_PREFIX", "bench-tasks"),
        BENCH_TASKS_STORE="1" if store else "0",
        PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    )


def _start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with open(log, "w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "django", "runworker", "-v", "0", *args], env=env, stderr=out
        )
    return worker


async def _measure(
    send: Callable[[float], Awaitable[Any]], burst: int, single: int
) -> tuple[float, float]:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert layer is not None
    await send(time.time())  # warm-up: the worker is up and connected
    await layer.receive("bench-done")
    latencies = []
    for _ in range(single):
        await send(time.time())
        latencies.append((await layer.receive("bench-done"))["latency"])
    started = time.perf_counter()
    for _ in range(burst):
        await send(time.time())
    for _ in range(burst):
        await layer.receive("bench-done")
    throughput = burst / (time.perf_counter() - started)
    return throughput, statistics.median(latencies) * 1000


async def _run_side(kind: str, burst: int, single: int) -> tuple[float, float]:
    from bench_tasks_app import PLAIN, work
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert layer is not None
    if kind == "plain":
        return await _measure(
            lambda at: layer.send(PLAIN, {"type": "work", "sent_at": at}), burst, single
        )
    return await _measure(lambda at: work.aenqueue(at), burst, single)


def _side(kind: str, store: bool, database: str, burst: int, single: int) -> tuple[float, float]:
    env = _environment(store, database)
    os.environ.update(env)
    sys.path.insert(0, str(HERE))
    import django
    from django.core.management import call_command
    from django.test.utils import override_settings

    django.setup()
    call_command("migrate", verbosity=0)
    args = ("bench-plain",) if kind == "plain" else ("--tasks",)
    worker = _start_worker(env, Path(database).with_suffix(f".{kind}.log"), *args)
    try:
        options = {"RESULT_DATABASE": "default" if store else None}
        tasks = {"default": {"BACKEND": "channels.tasks.ChannelLayerBackend", "OPTIONS": options}}
        with override_settings(TASKS=tasks):
            return asyncio.run(_run_side(kind, burst, single))
    finally:
        worker.terminate()
        worker.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    add_output_options(parser)
    options = parser.parse_args()
    import django

    if django.VERSION < (6, 0):  # nox -s bench runs Python 3.11, which Django 6 does not support
        print(f"skipped: channels.tasks needs Django 6.0+ (this is {django.get_version()})")
        return
    before = machine()
    burst, single = (200, 50) if options.quick else (2000, 200)
    os.environ.setdefault("BENCH_TASKS_PREFIX", f"bench-tasks-{secrets.token_hex(4)}")
    database = str(Path(tempfile.mkdtemp(prefix="bench-tasks-")) / "db.sqlite3")
    plain = _side("plain", False, database, burst, single)
    rows = [("plain runworker channel (peer)", plain)]
    rows.append(("tasks, no result store", _side("tasks", False, database, burst, single)))
    rows.append(("tasks, result store (SQLite)", _side("tasks", True, database, burst, single)))
    print(f"Redis layer, burst of {burst} for throughput, {single} one at a time for latency")
    print("| side | tasks/s | ratio to plain | start latency ms (median) | ratio to plain |")
    print("| --- | --- | --- | --- | --- |")
    for name, (rate, latency) in rows:
        print(
            f"| {name} | {rate:.0f} | {rate / plain[0]:.2f} | {latency:.2f} "
            f"| {latency / plain[1]:.2f} |"
        )
    roles = ("peer", "ours", "ours")
    charts = [
        Workload(
            name=title,
            unit=unit,
            lower_is_better=lower,
            metrics=[unit],
            series=[
                Series(name, role, {unit: figures[index]})
                for (name, figures), role in zip(rows, roles, strict=True)
            ],
        )
        for title, unit, lower, index in (
            (f"burst of {burst}, throughput", "tasks/s", False, 0),
            ("enqueue to start, median", "ms", True, 1),
        )
    ]
    publish("channels_tasks_bench", charts, before, options, burst=burst, single=single)


if __name__ == "__main__":
    main()
