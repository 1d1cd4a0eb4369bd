"""Capacity patterns: globs, regexes, first match wins, clear config errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from asgiref.layers import (
    BaseChannelLayer,
    CapacityMatcher,
    InvalidChannelLayerError,
    compile_capacities,
)


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


class UpstreamStyleLayer(BaseChannelLayer):
    """Written for upstream's base class: sets its own attributes, skips super().__init__."""

    def __init__(self, capacity: int = 100, channel_capacity: Any = None) -> None:
        self.expiry = 60
        self.capacity = capacity
        self.channel_capacity = self.compile_capacities(channel_capacity or {})


def test_a_layer_that_compiles_its_own_capacities_gets_them_from_get_capacity() -> None:
    layer = UpstreamStyleLayer(capacity=7, channel_capacity={"http.*": 3, re.compile("^ws"): 5})
    assert [(regex.pattern, value) for regex, value in layer.channel_capacity][1] == ("^ws", 5)
    assert layer.get_capacity("http.request") == 3
    assert layer.get_capacity("ws.x") == 5
    assert layer.get_capacity("other") == 7


def test_get_capacity_follows_attributes_changed_after_construction() -> None:
    layer = BaseChannelLayer(capacity=10)
    assert layer.get_capacity("a") == 10
    layer.capacity = 2
    layer.channel_capacity = {"a*": 4}
    assert (layer.get_capacity("abc"), layer.get_capacity("b")) == (4, 2)


def test_upstream_name_helpers_exist() -> None:
    layer = BaseChannelLayer()
    assert layer.match_type_and_length("x" * 99) and not layer.match_type_and_length("x" * 100)
    assert not layer.match_type_and_length(b"bytes")
    assert layer.channel_name_regex.match("chat.room!abc")
    assert not layer.group_name_regex.match("room!abc")
