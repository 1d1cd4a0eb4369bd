"""The charts of bench/asgi_redis_bench.py, built from its flat figures (see its docstring).

Kept apart so that the benchmark stays one screenful of measuring code per concern.
"""

from __future__ import annotations

from _results import Series, Workload

__all__ = ["workloads"]


def workloads(figures: dict[str, float], members: int) -> list[Workload]:
    """The charts: the loops fan-out per variant (ours, upstream, the raw floor), and with
    round trips against upstream, and with ``--only all`` the layer against raw redis-py
    (round trips across processes, throughput); each only when its figures are there."""
    charts = []
    for variant in ("", "-pubsub", "-fernet"):
        stacks = [(f"ours{variant}", "ours"), (f"upstream{variant}", "upstream")]
        if not variant:
            stacks.append(("floor", "peer"))
        series = [
            Series(
                {"floor": "raw redis-py floor"}.get(stack, stack),
                role,
                {q: figures[f"loops_{members}_{stack}_{q}_ms"] for q in ("p50", "p90")},
            )
            for stack, role in stacks
            if f"loops_{members}_{stack}_p50_ms" in figures
        ]
        if not series:
            continue
        charts.append(
            Workload(
                name=f"group_send to {members:,} members, consumer loop each{variant}",
                unit="ms",
                lower_is_better=True,
                metrics=["p50", "p90"],
                series=series,
                notes={
                    "failed": [s for s, _ in stacks if f"loops_{members}_{s}_failed" in figures]
                },
            )
        )
    round_trips = {
        "round trip to a worker process, against upstream": [
            ("asgi_redis", "ours", "rt_ours"),
            ("channels_redis 4.3.0", "upstream", "rt_upstream"),
        ],
        "round trip across processes": [
            ("asgi_redis", "ours", "layer_cross"),
            ("raw redis-py", "peer", "raw_cross"),
        ],
    }
    for name, sides in round_trips.items():
        present = [(label, role, key) for label, role, key in sides if f"{key}_p50_ms" in figures]
        if present:
            charts.append(
                Workload(
                    name=name,
                    unit="ms",
                    lower_is_better=True,
                    metrics=["p50", "p99"],
                    series=[
                        Series(label, role, {q: figures[f"{key}_{q}_ms"] for q in ("p50", "p99")})
                        for label, role, key in present
                    ],
                )
            )
    if "layer_sequential_per_s" in figures:
        charts.append(
            Workload(
                name="send + receive in sequence, per s",
                unit="per s",
                lower_is_better=False,
                metrics=["per s"],
                series=[
                    Series("asgi_redis", "ours", {"per s": figures["layer_sequential_per_s"]}),
                    Series("raw redis-py", "peer", {"per s": figures["raw_sequential_per_s"]}),
                ],
            )
        )
    return charts
