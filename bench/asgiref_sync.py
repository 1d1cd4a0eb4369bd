"""Call rates of asgiref's async_to_sync and sync_to_async against floors, in one process.

Usage: python bench/asgiref_sync.py [--calls 20000] [--repeat 5] [--no-upstream]

Each case is timed ``--repeat`` times in round-robin order (so background load hits every
case alike) and the best rate is kept. Ratios compare cases measured in this same run:

* async_to_sync from a plain thread vs
  - upstream asgiref 3.13.0's async_to_sync, the same loop of calls in a peer process
    running a venv with asgiref from PyPI (built once, see ``_upstream_peer``; skipped
    with ``--no-upstream``). Its rounds alternate with ours, and besides the ratio of the
    best rates the median of the per-round ratios is reported (the steadier figure on a
    loaded machine),
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
from statistics import median

from _upstream_peer import ASGIREF_UPSTREAM, Peer, build_venv, serve_peer


async def noop_async() -> None:
    return None


def noop_sync() -> None:
    return None


def rate(calls: int, body: Callable[[int], None]) -> float:
    started = time.perf_counter()
    body(calls)
    return calls / (time.perf_counter() - started)


def async_to_sync_case(calls: int) -> None:
    # Imported here: an upstream peer runs this function against its own asgiref.
    from asgiref.sync import async_to_sync

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


def sync_to_async_call(thread_sensitive: bool) -> Callable[[], object]:
    from asgiref.sync import sync_to_async

    return sync_to_async(noop_sync, thread_sensitive=thread_sensitive)


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
UPSTREAM_A2S = "upstream 3.13.0: async_to_sync (plain thread)"
S2A_SENSITIVE = "sync_to_async thread_sensitive=True"
S2A_POOLED = "sync_to_async thread_sensitive=False"
EXECUTOR = "floor: loop.run_in_executor"
# (label, case measured, case it is compared with)
RATIOS = [
    ("async_to_sync / upstream 3.13.0", A2S, UPSTREAM_A2S),
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
        S2A_SENSITIVE: (in_loop(lambda: sync_to_async_call(True)), calls // 2),
        S2A_POOLED: (in_loop(lambda: sync_to_async_call(False)), calls // 2),
        EXECUTOR: (in_loop(executor_floor), calls // 2),
    }


def report(best: dict[str, float], paired: list[float]) -> None:
    print(f"{'case':45} {'calls/s':>10}")
    for name, value in best.items():
        print(f"{name:45} {value:10.0f}")
    print()
    print("ratios of best rates (above 1: asgiref is faster)")
    for label, measured, against in RATIOS:
        if against in best:
            print(f"{label:45} {best[measured] / best[against]:10.2f}")
    if paired:
        print()
        rounds = " ".join(f"{ratio:.2f}" for ratio in paired)
        print(f"async_to_sync / upstream 3.13.0, per round: {rounds}")
        print(f"{'async_to_sync / upstream 3.13.0, median round':45} {median(paired):10.2f}")


def run_peer() -> None:
    """``--peer``: time the async_to_sync case against the asgiref this interpreter has."""
    import asgiref

    async_to_sync_case(200)
    serve_peer(f"asgiref {asgiref.__version__}", lambda calls: rate(calls, async_to_sync_case))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--no-upstream", action="store_true", help="skip upstream asgiref (needs PyPI once)"
    )
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        run_peer()
        return
    peer = None if args.no_upstream else Peer(__file__, "a2s", build_venv(*ASGIREF_UPSTREAM))
    if peer is not None:
        print(f"# upstream peer: {peer.versions}")
    floor = LoopThreadFloor()
    cases = build_cases(args.calls, floor)
    best: dict[str, float] = dict.fromkeys(cases, 0.0)
    paired: list[float] = []
    for case, calls in cases.values():
        case(min(calls, 500))  # warm up: threads, loops, executors
    for _ in range(args.repeat):
        for name, (case, calls) in cases.items():
            ours = rate(calls, case)
            best[name] = max(best[name], ours)
            if peer is not None and name == A2S:
                # Right after ours, with as many calls as the slow peers get.
                theirs = peer.measure(max(args.calls // 10, 100))
                best[UPSTREAM_A2S] = max(best.get(UPSTREAM_A2S, 0.0), theirs)
                paired.append(ours / theirs)
    floor.close()
    if peer is not None:
        peer.close()
    report(best, paired)


if __name__ == "__main__":
    main()
