"""Call rates of asgiref's async_to_sync and sync_to_async against upstream and floors.

Usage (from the repository root; the dev venv has matplotlib for the charts):

    python bench/asgiref_sync.py [--calls 20000] [--repeat 9] [--no-upstream] [--output DIR]

Every case is timed once per round, ``--repeat`` rounds in round-robin order, so background
load hits every case alike. Upstream asgiref 3.13.0 runs the same loops of calls in a peer
process with a venv from PyPI (built once, see ``_upstream_peer``; skipped with
``--no-upstream``); each of its measurements is taken right after ours of the same case.

The headline figure is ``async_to_sync / upstream 3.13.0``: the **median of the per-round
ratios** of our rate to upstream's, each ratio from one alternated pair of measurements
(ours, then upstream's, back to back). It is the figure the performance goal (10x) is
checked against. The table gives every case's median rate over the rounds, and the other
ratios are ratios of those medians:

* async_to_sync from a plain thread vs
  - a fresh loop in a fresh one-thread pool per call (what asgiref 3.x does),
  - ``loop.run_until_complete`` on one reused loop in the calling thread (the single-thread
    floor: no thread hand-off at all),
  - ``asyncio.run_coroutine_threadsafe(...).result()`` to a loop thread (the cross-thread
    floor: the two thread hand-offs every bridge to another thread pays),
  - ``asyncio.run`` per call (a fresh loop per call, no thread);
* sync_to_async (thread-sensitive and not) vs upstream's and ``await loop.run_in_executor``.

Results go to ``<output>/asgiref_sync.json`` with one chart per workload (ours, upstream,
floor; ``bench/_results.py``), with the load average before and after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from statistics import median

from _results import Series, Workload, add_output_options, machine, publish
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
S2A_SENSITIVE = "sync_to_async thread_sensitive=True"
S2A_POOLED = "sync_to_async thread_sensitive=False"
RCT = "floor: run_coroutine_threadsafe"
EXECUTOR = "floor: loop.run_in_executor"
#: Cases that upstream runs too: case -> the peer's case name.
UPSTREAM_CASES = {A2S: "a2s", S2A_SENSITIVE: "s2a-sensitive", S2A_POOLED: "s2a-pooled"}
HEADLINE = "async_to_sync / upstream 3.13.0"
# (label, case measured, case it is compared with), ratios of median rates
RATIOS = [
    ("async_to_sync / loop + thread per call", A2S, "peer: loop + thread per call (asgiref 3.x)"),
    ("async_to_sync / asyncio.run per call", A2S, "peer: asyncio.run per call"),
    ("async_to_sync / run_coroutine_threadsafe", A2S, RCT),
    ("async_to_sync / run_until_complete", A2S, "floor: run_until_complete, reused loop"),
    ("sync_to_async sensitive / run_in_executor", S2A_SENSITIVE, EXECUTOR),
    ("sync_to_async non-sensitive / run_in_executor", S2A_POOLED, EXECUTOR),
]


def peer_cases(calls: int) -> dict[str, Callable[[int], None]]:
    """The cases a peer can run, by peer case name (``calls`` is only for warming up)."""
    del calls
    return {
        "a2s": async_to_sync_case,
        "s2a-sensitive": in_loop(lambda: sync_to_async_call(True)),
        "s2a-pooled": in_loop(lambda: sync_to_async_call(False)),
    }


def build_cases(calls: int, floor: LoopThreadFloor) -> dict[str, tuple[Callable[[int], None], int]]:
    slow = max(calls // 10, 100)
    return {
        A2S: (async_to_sync_case, calls),
        "floor: run_until_complete, reused loop": (reused_loop_case, calls),
        RCT: (floor, calls),
        "peer: asyncio.run per call": (new_loop_per_call_case, slow),
        "peer: loop + thread per call (asgiref 3.x)": (loop_and_thread_per_call_case, slow),
        S2A_SENSITIVE: (in_loop(lambda: sync_to_async_call(True)), calls // 2),
        S2A_POOLED: (in_loop(lambda: sync_to_async_call(False)), calls // 2),
        EXECUTOR: (in_loop(executor_floor), calls // 2),
    }


def upstream_label(case: str) -> str:
    return f"upstream 3.13.0: {case}"


def report(rates: dict[str, list[float]], paired: list[float]) -> dict[str, float]:
    """Print the table and the ratios; return every case's median rate."""
    medians = {name: median(values) for name, values in rates.items() if values}
    print(f"{'case (median of rounds)':55} {'calls/s':>10}")
    for name, value in medians.items():
        print(f"{name:55} {value:10.0f}")
    print()
    print("ratios of median rates (above 1: asgiref is faster)")
    for case in UPSTREAM_CASES:
        if upstream_label(case) in medians:
            ratio = medians[case] / medians[upstream_label(case)]
            print(f"{case + ' / upstream 3.13.0':55} {ratio:10.2f}")
    for label, measured, against in RATIOS:
        print(f"{label:55} {medians[measured] / medians[against]:10.2f}")
    if paired:
        print()
        rounds = " ".join(f"{ratio:.2f}" for ratio in paired)
        print(f"{HEADLINE}, per round: {rounds}")
        print(f"HEADLINE {HEADLINE} (median of per-round ratios): {median(paired):.2f}x")
    return medians


def workloads(medians: dict[str, float], paired: list[float]) -> list[Workload]:
    """Two charts: async_to_sync from a plain thread, sync_to_async from a loop."""

    def stack(label: str, role: str, cases: dict[str, str]) -> Series | None:
        if not all(case in medians for case in cases.values()):
            return None
        return Series(label, role, {metric: medians[case] for metric, case in cases.items()})

    a2s_metric = "async_to_sync, plain thread"
    a2s = [
        stack("ours (asgiref)", "ours", {a2s_metric: A2S}),
        stack("upstream asgiref 3.13.0", "upstream", {a2s_metric: upstream_label(A2S)}),
        stack("floor: run_coroutine_threadsafe", "peer", {a2s_metric: RCT}),
    ]
    s2a_metrics = {"thread_sensitive=True": S2A_SENSITIVE, "thread_sensitive=False": S2A_POOLED}
    s2a = [
        stack("ours (asgiref)", "ours", s2a_metrics),
        stack(
            "upstream asgiref 3.13.0",
            "upstream",
            {metric: upstream_label(case) for metric, case in s2a_metrics.items()},
        ),
        stack("floor: loop.run_in_executor", "peer", dict.fromkeys(s2a_metrics, EXECUTOR)),
    ]
    headline = {
        "ratio": median(paired) if paired else None,
        "per_round": paired,
        "method": "median of per-round ratios ours / upstream, alternated rounds",
    }
    return [
        Workload(
            "async_to_sync from a plain thread (median rate of rounds)",
            "calls/s",
            False,
            [a2s_metric],
            [s for s in a2s if s is not None],
            {"headline": headline, "median_rates": medians},
        ),
        Workload(
            "sync_to_async from a running loop (median rate of rounds)",
            "calls/s",
            False,
            list(s2a_metrics),
            [s for s in s2a if s is not None],
        ),
    ]


def run_peer(case: str) -> None:
    """``--peer CASE``: time one case against the asgiref this interpreter has."""
    import asgiref

    body = peer_cases(0)[case]
    body(200)
    serve_peer(f"asgiref {asgiref.__version__}", lambda calls: rate(calls, body))


def run_rounds(
    args: argparse.Namespace, peers: dict[str, Peer]
) -> tuple[dict[str, list[float]], list[float]]:
    """``args.repeat`` rounds of every case; returns each case's rates and the headline pairs."""
    floor = LoopThreadFloor()
    cases = build_cases(args.calls, floor)
    rates: dict[str, list[float]] = {name: [] for name in cases}
    rates.update({upstream_label(case): [] for case in peers})
    paired: list[float] = []
    for case, calls in cases.values():
        case(min(calls, 500))  # warm up: threads, loops, executors
    for _ in range(args.repeat):
        for name, (case, calls) in cases.items():
            ours = rate(calls, case)
            rates[name].append(ours)
            peer = peers.get(name)
            if peer is None:
                continue
            # Right after ours; async_to_sync with as many calls as the slow peers get.
            theirs = peer.measure(max(args.calls // 10, 100) if name == A2S else calls)
            rates[upstream_label(name)].append(theirs)
            if name == A2S:
                paired.append(ours / theirs)
    floor.close()
    return rates, paired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument(
        "--no-upstream", action="store_true", help="skip upstream asgiref (needs PyPI once)"
    )
    add_output_options(parser)
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        run_peer(args.peer)
        return
    before = machine()
    peers: dict[str, Peer] = {}
    if not args.no_upstream:
        python = build_venv(*ASGIREF_UPSTREAM)
        peers = {case: Peer(__file__, name, python) for case, name in UPSTREAM_CASES.items()}
        print(f"# upstream peer: {peers[A2S].versions}")
    rates, paired = run_rounds(args, peers)
    for peer in peers.values():
        peer.close()
    medians = report(rates, paired)
    publish(
        "asgiref_sync",
        workloads(medians, paired),
        before,
        args,
        command="python bench/asgiref_sync.py " + " ".join(sys.argv[1:]),
        settings={k: v for k, v in vars(args).items() if k not in ("output", "peer")},
        rates_per_round=rates,
    )


if __name__ == "__main__":
    main()
