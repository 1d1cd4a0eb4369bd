"""Call rates of asgiref's async_to_sync and sync_to_async against floors, in one process.

Usage: python bench/asgiref_sync.py [--calls 20000] [--repeat 5]

Each case is timed ``--repeat`` times in round-robin order (so background load hits every
case alike) and the best rate is kept. Ratios compare cases measured in this same run:

* async_to_sync from a plain thread vs
  - a fresh loop in a fresh one-thread pool per call (what asgiref 3.x does),
  - ``loop.run_until_complete`` on one reused loop in the calling thread (the single-thread
    floor: no thread hand-off at all),
  - ``asyncio.run_coroutine_threadsafe(...).result()`` to a loop thread (the cross-thread
    floor: the two thread hand-offs every bridge to another thread pays),
  - ``asyncio.run`` per call (a fresh loop per call, no thread);
* sync_to_async (thread-sensitive and not) vs ``await loop.run_in_executor(None, f)``.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync, sync_to_async


async def noop_async() -> None:
    return None


def noop_sync() -> None:
    return None


def rate(calls: int, body: Callable[[int], None]) -> float:
    started = time.perf_counter()
    body(calls)
    return calls / (time.perf_counter() - started)


def async_to_sync_case(calls: int) -> None:
    wrapped = async_to_sync(noop_async)
    for _ in range(calls):
        wrapped()


def reused_loop_case(calls: int) -> None:
    loop = asyncio.new_event_loop()
    try:
        for _ in range(calls):
            loop.run_until_complete(noop_async())
    finally:
        loop.close()


class LoopThreadFloor:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def __call__(self, calls: int) -> None:
        for _ in range(calls):
            asyncio.run_coroutine_threadsafe(noop_async(), self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


def new_loop_per_call_case(calls: int) -> None:
    for _ in range(calls):
        asyncio.run(noop_async())


def loop_and_thread_per_call_case(calls: int) -> None:
    # asgiref 3.x's strategy in a plain thread: a fresh loop in a fresh one-thread pool per
    # call, the calling thread blocking on the result.
    for _ in range(calls):
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, noop_async()).result()


def in_loop(make: Callable[[], Callable[[], object]]) -> Callable[[int], None]:
    """A case that awaits ``make()()`` ``calls`` times inside one running loop."""

    def case(calls: int) -> None:
        async def main() -> None:
            call = make()
            for _ in range(calls):
                await call()  # type: ignore[misc]

        asyncio.run(main())

    return case


def executor_floor() -> Callable[[], object]:
    loop = asyncio.get_running_loop()
    return lambda: loop.run_in_executor(None, noop_sync)


A2S = "async_to_sync (plain thread)"
S2A_SENSITIVE = "sync_to_async thread_sensitive=True"
S2A_POOLED = "sync_to_async thread_sensitive=False"
EXECUTOR = "floor: loop.run_in_executor"
# (label, case measured, case it is compared with)
RATIOS = [
    ("async_to_sync / loop + thread per call", A2S, "peer: loop + thread per call (asgiref 3.x)"),
    ("async_to_sync / asyncio.run per call", A2S, "peer: asyncio.run per call"),
    ("async_to_sync / run_coroutine_threadsafe", A2S, "floor: run_coroutine_threadsafe"),
    ("async_to_sync / run_until_complete", A2S, "floor: run_until_complete, reused loop"),
    ("sync_to_async sensitive / run_in_executor", S2A_SENSITIVE, EXECUTOR),
    ("sync_to_async non-sensitive / run_in_executor", S2A_POOLED, EXECUTOR),
]


def build_cases(calls: int, floor: LoopThreadFloor) -> dict[str, tuple[Callable[[int], None], int]]:
    slow = max(calls // 10, 100)
    return {
        A2S: (async_to_sync_case, calls),
        "floor: run_until_complete, reused loop": (reused_loop_case, calls),
        "floor: run_coroutine_threadsafe": (floor, calls),
        "peer: asyncio.run per call": (new_loop_per_call_case, slow),
        "peer: loop + thread per call (asgiref 3.x)": (loop_and_thread_per_call_case, slow),
        S2A_SENSITIVE: (in_loop(lambda: sync_to_async(noop_sync)), calls // 2),
        S2A_POOLED: (
            in_loop(lambda: sync_to_async(noop_sync, thread_sensitive=False)),
            calls // 2,
        ),
        EXECUTOR: (in_loop(executor_floor), calls // 2),
    }


def report(best: dict[str, float]) -> None:
    print(f"{'case':45} {'calls/s':>10}")
    for name, value in best.items():
        print(f"{name:45} {value:10.0f}")
    print()
    print("ratios (above 1: asgiref is faster)")
    for label, measured, against in RATIOS:
        print(f"{label:45} {best[measured] / best[against]:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    floor = LoopThreadFloor()
    cases = build_cases(args.calls, floor)
    best: dict[str, float] = dict.fromkeys(cases, 0.0)
    for case, calls in cases.values():
        case(min(calls, 500))  # warm up: threads, loops, executors
    for _ in range(args.repeat):
        for name, (case, calls) in cases.items():
            best[name] = max(best[name], rate(calls, case))
    floor.close()
    report(best)


if __name__ == "__main__":
    main()
