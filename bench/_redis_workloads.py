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
    if "rt_ours_p50_ms" in figures:
        stacks = [("ours", "asgi_redis"), ("upstream", "channels_redis 4.3.0")]
        charts.append(
            Workload(
                name="round trip to a worker process, against upstream",
                unit="ms",
                lower_is_better=True,
                metrics=["p50", "p99"],
                series=[
                    Series(label, role, {q: figures[f"rt_{role}_{q}_ms"] for q in ("p50", "p99")})
                    for role, label in stacks
                    if f"rt_{role}_p50_ms" in figures
                ],
            )
        )
    if "layer_cross_p50_ms" in figures:
        charts.append(
            Workload(
                name="round trip across processes",
                unit="ms",
                lower_is_better=True,
                metrics=["p50", "p99"],
                series=[
                    Series(
                        "asgi_redis",
                        "ours",
                        {q: figures[f"layer_cross_{q}_ms"] for q in ("p50", "p99")},
                    ),
                    Series(
                        "raw redis-py",
                        "peer",
                        {q: figures[f"raw_cross_{q}_ms"] for q in ("p50", "p99")},
                    ),
                ],
            )
        )
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
