"""Shared by the benchmarks in bench/: write results as JSON, render one chart per workload.

A benchmark builds :class:`Workload` objects (each: metrics, and per metric one value per
stack), passes them to :func:`write_results`, then to :func:`render_charts`. The JSON is the
record; the PNG charts are derived from it and are optional: without matplotlib the run still
succeeds and :func:`render_charts` says how to install it.

Convention for stacks, so that every chart reads the same way: first ours, then upstream, then
the best peer (:data:`ROLE_COLOURS` colours them by role).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ROLE_COLOURS",
    "Series",
    "Workload",
    "add_output_options",
    "load_workloads",
    "machine",
    "publish",
    "render_charts",
    "write_results",
]

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / ".cache" / "bench-results"

#: Bar colour per role: ours, upstream, a peer.
ROLE_COLOURS = {"ours": "#2a7ab9", "upstream": "#9a9a9a", "peer": "#e0902f"}


@dataclass(frozen=True)
class Series:
    """One stack's figures in a workload: ``values`` maps a metric name to a number."""

    label: str
    role: str  # a key of ROLE_COLOURS
    values: dict[str, float]


@dataclass(frozen=True)
class Workload:
    """One chart: the metrics (in display order) of several stacks under one load."""

    name: str
    unit: str
    lower_is_better: bool
    metrics: list[str]
    series: list[Series]
    notes: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    """What the figures depend on: CPUs, Python, and the load average when they were taken."""
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": [round(value, 2) for value in os.getloadavg()],
    }


def write_results(
    benchmark: str,
    workloads: Sequence[Workload],
    meta: dict[str, Any],
    directory: Path = RESULTS_DIR,
) -> Path:
    """Write ``<directory>/<benchmark>.json`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{benchmark}.json"
    record = {"benchmark": benchmark, "meta": meta, "workloads": [asdict(w) for w in workloads]}
    target.write_text(json.dumps(record, indent=2) + "\n")
    return target


def load_workloads(path: Path) -> list[Workload]:
    record = json.loads(path.read_text())
    return [
        Workload(**{**raw, "series": [Series(**s) for s in raw["series"]]})
        for raw in record["workloads"]
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_charts(results: Path, directory: Path | None = None) -> list[Path]:
    """Render one PNG bar chart per workload of *results* (a JSON from :func:`write_results`).

    Returns the PNG paths; returns nothing, with a hint on how to get it, without matplotlib.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("charts skipped: matplotlib is missing (pip install matplotlib; nox -s bench has it)")
        return []
    directory = directory or results.parent
    benchmark = results.stem
    paths = []
    for workload in load_workloads(results):
        figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=100)
        width = 0.8 / max(len(workload.series), 1)
        for index, series in enumerate(workload.series):
            xs = [
                m + (index - (len(workload.series) - 1) / 2) * width
                for m in range(len(workload.metrics))
            ]
            heights = [series.values[metric] for metric in workload.metrics]
            bars = axes.bar(xs, heights, width, label=series.label, color=ROLE_COLOURS[series.role])
            axes.bar_label(bars, fmt="%.0f", fontsize=7, padding=2)
        axes.set_xticks(range(len(workload.metrics)), workload.metrics)
        better = "lower" if workload.lower_is_better else "higher"
        axes.set_ylabel(f"{workload.unit} ({better} is better)")
        axes.set_title(workload.name, fontsize=10)
        axes.margins(y=0.15)
        axes.legend(fontsize=8, frameon=False)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        target = directory / f"{benchmark}-{_slug(workload.name)}.png"
        figure.savefig(target)
        plt.close(figure)
        paths.append(target)
    return paths


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--output DIR`` (default .cache/bench-results) and ``--no-charts`` to *parser*."""
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR, help="directory for the JSON and charts"
    )
    parser.add_argument(
        "--no-charts", dest="charts", action="store_false", help="write the JSON only"
    )


def publish(
    benchmark: str,
    workloads: Sequence[Workload],
    before: dict[str, Any],
    args: argparse.Namespace,
    **extra: Any,
) -> Path:
    """Write ``<args.output>/<benchmark>.json`` and, unless ``--no-charts``, its charts.

    *before* is :func:`machine` taken when the run began; the record's ``meta`` holds it as
    ``machine_before``, :func:`machine` now as ``machine_after``, and *extra* (the run's
    options). Prints where the results went and both load averages; returns the JSON path.
    """
    after = machine()
    meta = {"machine_before": before, "machine_after": after, **extra}
    path = write_results(benchmark, workloads, meta, args.output)
    print(f"results: {path}  load average before {before['loadavg']} after {after['loadavg']}")
    if args.charts:
        for chart in render_charts(path):
            print(f"chart: {chart}")
    return path
