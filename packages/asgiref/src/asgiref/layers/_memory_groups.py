"""Group membership with expiry, for the in-memory layer (pure: no IO, no loop).

Every call takes ``now`` from the caller, so the registry never reads a clock
and its behaviour is fully determined by its inputs.
"""

from __future__ import annotations

from collections import deque

__all__ = ["GroupRegistry"]

# The deadline log may hold this many stale entries beyond the live memberships
# before it is compacted; keeps group_add O(1) amortised.
_COMPACT_SLACK = 1024


class GroupRegistry:
    """Maps group -> {channel: membership deadline}.

    Invariant: ``_log`` holds ``(deadline, group, channel)`` in non-decreasing
    deadline order, because every entry is ``now + expiry`` for one constant
    expiry and ``now`` comes from a monotonic clock. Expired memberships can
    therefore be found from the left end without scanning every group.
    """

    def __init__(self, expiry: float) -> None:
        self.expiry = expiry
        self._groups: dict[str, dict[str, float]] = {}
        self._log: deque[tuple[float, str, str]] = deque()
        self._members = 0

    def add(self, group: str, channel: str, now: float) -> None:
        """Add (or refresh) *channel* in *group* until ``now + expiry``."""
        deadline = now + self.expiry
        members = self._groups.setdefault(group, {})
        if channel not in members:
            self._members += 1
        members[channel] = deadline
        self._log.append((deadline, group, channel))
        if len(self._log) > 2 * self._members + _COMPACT_SLACK:
            self._compact()

    def discard(self, group: str, channel: str) -> None:
        """Remove *channel* from *group*; unknown groups and channels are fine."""
        members = self._groups.get(group)
        if members is None or members.pop(channel, None) is None:
            return
        self._members -= 1
        if not members:
            del self._groups[group]

    def members(self, group: str, now: float) -> list[str]:
        """The channels of *group* whose membership has not expired.

        A new list (a snapshot): callers may add or discard while they deliver.
        """
        members = self._groups.get(group)
        if not members:
            return []
        return [channel for channel, deadline in members.items() if deadline > now]

    def expire(self, now: float) -> None:
        """Drop memberships whose deadline is ``<= now``; amortised O(1)."""
        log = self._log
        while log and log[0][0] <= now:
            _, group, channel = log.popleft()
            members = self._groups.get(group)
            deadline = None if members is None else members.get(channel)
            # A later group_add refreshed the deadline: that entry is further right.
            if deadline is not None and deadline <= now:
                self.discard(group, channel)

    def remove_channel(self, channel: str) -> None:
        """Remove *channel* from every group (its log entries expire as stale)."""
        for group in [group for group, members in self._groups.items() if channel in members]:
            self.discard(group, channel)

    def snapshot(self) -> dict[str, dict[str, float]]:
        """A copy of group -> {channel: membership deadline}."""
        return {group: dict(members) for group, members in self._groups.items()}

    def clear(self) -> None:
        self._groups.clear()
        self._log.clear()
        self._members = 0

    def __len__(self) -> int:
        """The number of live memberships across all groups."""
        return self._members

    def _compact(self) -> None:
        # Keep only the entry that carries each membership's current deadline.
        groups = self._groups
        self._log = deque(
            entry for entry in self._log if groups.get(entry[1], {}).get(entry[2]) == entry[0]
        )
