"""Capacity patterns: globs, regexes, first match wins, clear config errors."""

from __future__ import annotations

import re

import pytest
from asgiref.layers import CapacityMatcher, InvalidChannelLayerError, compile_capacities


def test_default_applies_without_patterns() -> None:
    assert CapacityMatcher(7).capacity_for("anything") == 7


def test_glob_and_regex_patterns_first_match_wins() -> None:
    matcher = CapacityMatcher(
        100,
        {"http.request": 200, "websocket.*": 20, re.compile(r"^specific\..*!"): 5, "web*": 1},
    )
    assert matcher.capacity_for("http.request") == 200
    assert matcher.capacity_for("http.request.body") == 100  # a glob matches whole names
    assert matcher.capacity_for("websocket.send") == 20
    assert matcher.capacity_for("webhook") == 1
    assert matcher.capacity_for("specific.abc!x") == 5
    assert matcher.capacity_for("other") == 100


def test_patterns_as_pairs() -> None:
    assert [cap for _, cap in compile_capacities([("a*", 1), ("b*", 2)])] == [1, 2]
    assert compile_capacities(None) == []


@pytest.mark.parametrize("default", [0, -1, 1.5, True, "10"])
def test_bad_default_capacity(default: object) -> None:
    with pytest.raises(InvalidChannelLayerError, match="capacity must be a positive int"):
        CapacityMatcher(default)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        ({3: 1}, "glob strings or compiled regexes, got 3"),
        ({"a": 0}, r"channel_capacity\['a'\] must be a positive int, got 0"),
        ({"a": "5"}, "positive int, got '5'"),
    ],
)
def test_bad_patterns_name_the_problem(patterns: dict[object, object], message: str) -> None:
    with pytest.raises(InvalidChannelLayerError, match=message):
        CapacityMatcher(10, patterns)  # type: ignore[arg-type]
