"""Consistent hashing: which shard owns a routing name (no IO).

Each shard is placed on the ring at many points derived from its *identity*
(not its position in ``hosts``), so adding or removing one shard moves only the
names that hashed to it; every other name keeps its shard.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["HashRing"]

_POINTS_PER_SHARD = 160


def _point(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class HashRing:
    """Maps names to shard indexes ``0..len(identities)-1``."""

    def __init__(self, identities: Sequence[str], points_per_shard: int = _POINTS_PER_SHARD):
        if not identities:
            raise ValueError("A hash ring needs at least one shard identity, got none")
        self.size = len(identities)
        pairs = sorted(
            (_point(f"{identity}#{replica}"), index)
            for index, identity in enumerate(identities)
            for replica in range(points_per_shard)
        )
        self._points = [point for point, _ in pairs]
        self._owners = [owner for _, owner in pairs]
        # Channel and group names repeat on every hot call; hash each once.
        self.index_for = lru_cache(maxsize=65536)(self._lookup)

    def _lookup(self, name: str) -> int:
        if self.size == 1:
            return 0
        position = bisect.bisect(self._points, _point(name))
        return self._owners[position % len(self._owners)]
