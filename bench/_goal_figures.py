"""How bench/goals.py finds a figure in a results record (bench/_results.py's JSON): by
workload name words, series role or label, and metric name, so that the benchmarks' exact
titles may change a little without breaking the goal table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["Record", "column_ratios", "metric", "ratio", "series", "workload"]

#: A results record as JSON: ``benchmark``, ``meta``, ``workloads``.
Record = dict[str, Any]


def workload(record: Record, *words: str, exclude: Sequence[str] = ()) -> Record:
    """The first workload whose name (lower case, without thousands commas) has every word
    and none of *exclude*; KeyError naming what was looked for otherwise."""
    for candidate in record.get("workloads", []):
        name = str(candidate.get("name", "")).lower().replace(",", "")
        if all(w in name for w in words) and not any(x in name for x in exclude):
            return dict(candidate)
    names = [w.get("name") for w in record.get("workloads", [])]
    raise KeyError(f"no workload with {words} (without {tuple(exclude)}) among {names}")


def series(chosen: Record, role: str | None = None, label: str | None = None) -> dict[str, float]:
    """The values of the first series with that role and a label containing *label*."""
    for candidate in chosen.get("series", []):
        if role is not None and candidate.get("role") != role:
            continue
        if label is not None and label not in str(candidate.get("label", "")).lower():
            continue
        return {key: float(value) for key, value in candidate["values"].items()}
    raise KeyError(f"no series role={role} label={label} in {chosen.get('name')!r}")


def metric(values: dict[str, float], name: str | None = None) -> float:
    """*name*'s value, or the only one when *name* is None."""
    if name is None:
        if len(values) != 1:
            raise KeyError(f"expected one metric, got {sorted(values)}")
        return next(iter(values.values()))
    return values[name]


def ratio(record: Record, words: Sequence[str], against: str, name: str | None = None) -> float:
    """Ours over the series of role *against* in the workload named by *words*."""
    chosen = workload(record, *words)
    return metric(series(chosen, "ours"), name) / metric(series(chosen, against), name)


def column_ratios(record: Record, words: Sequence[str], against: str) -> list[float]:
    """Ours over *against*, column by column, in the workload named by *words*."""
    chosen = workload(record, *words)
    ours, theirs = series(chosen, "ours"), series(chosen, against)
    return [ours[key] / theirs[key] for key in ours if key in theirs]
