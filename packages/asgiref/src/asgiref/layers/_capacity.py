"""Capacity patterns: which capacity applies to which channel.

``channel_capacity`` maps patterns to capacities. A pattern is either a glob
string (``"http.request"``, ``"websocket.*"``) or a compiled regular expression.
The first pattern that matches wins, in the mapping's iteration order; a
channel that matches none gets the default capacity.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Union

from ._errors import InvalidChannelLayerError

__all__ = ["CapacityMatcher", "CapacityPattern", "compile_capacities"]

CapacityPattern = Union[str, "re.Pattern[str]"]


#: A ``channel_capacity`` setting: a mapping, or ``(pattern, capacity)`` pairs (compiled ones too).
CapacitySetting = Mapping[CapacityPattern, int] | Iterable[tuple[CapacityPattern, int]] | None


def compile_capacities(channel_capacity: CapacitySetting) -> list[tuple[re.Pattern[str], int]]:
    """Turn a ``channel_capacity`` setting into ``(regex, capacity)`` pairs.

    Already compiled pairs (what this returns) compile to themselves.
    """
    if channel_capacity is None:
        return []
    items = channel_capacity.items() if isinstance(channel_capacity, Mapping) else channel_capacity
    compiled: list[tuple[re.Pattern[str], int]] = []
    for pattern, capacity in items:
        if isinstance(pattern, re.Pattern):
            regex = pattern
        elif isinstance(pattern, str):
            regex = re.compile(fnmatch.translate(pattern))
        else:
            raise InvalidChannelLayerError(
                f"channel_capacity keys must be glob strings or compiled regexes, "
                f"got {pattern!r} ({type(pattern).__name__})"
            )
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise InvalidChannelLayerError(
                f"channel_capacity[{pattern!r}] must be a positive int, got {capacity!r}"
            )
        compiled.append((regex, capacity))
    return compiled


class CapacityMatcher:
    """Answers ``capacity_for(channel)``; results are cached per channel name."""

    def __init__(
        self,
        default: int,
        channel_capacity: CapacitySetting = None,
    ) -> None:
        if isinstance(default, bool) or not isinstance(default, int) or default < 1:
            raise InvalidChannelLayerError(f"capacity must be a positive int, got {default!r}")
        self.default = default
        #: The setting this matcher was built from (a layer rebuilds it when that changes).
        self.source = channel_capacity
        self.patterns = compile_capacities(channel_capacity)
        # Channel names repeat endlessly on a hot path; the pattern scan is
        # done once per distinct name.
        self.capacity_for = lru_cache(maxsize=4096)(self._match)

    def _match(self, channel: str) -> int:
        for regex, capacity in self.patterns:
            if regex.match(channel):
                return capacity
        return self.default
