"""Which of this layer's own channels belong to which group. No IO.

The broker only knows that a process queue is bound to a group; the owning
layer keeps the channel-level membership and fans a group message out to its
members when the single copy arrives. Membership lasts ``group_expiry``
seconds after the latest ``group_add`` (as in channels_redis), so a consumer
that died without discarding stops receiving eventually.

Thread-safe: every loop of a layer shares one registry.
"""

from __future__ import annotations

import threading
import time

__all__ = ["GroupRegistry"]


class GroupRegistry:
    def __init__(self, expiry: float, *, track_expired: bool = False) -> None:
        self._expiry = expiry
        self._lock = threading.Lock()
        self._groups: dict[str, dict[str, float]] = {}
        # With tracking on, every membership that expires is kept here until
        # pop_expired() hands it out, whichever method noticed the expiry.
        self._expired: list[tuple[str, str]] | None = [] if track_expired else None

    def add(self, group: str, channel: str) -> bool:
        """Record membership; return whether the group had no live member before."""
        now = time.monotonic()
        with self._lock:
            members = self._groups.setdefault(group, {})
            was_empty = not self._prune(group, members, now)
            members[channel] = now + self._expiry
            return was_empty

    def discard(self, group: str, channel: str) -> bool:
        """Forget membership; return whether the group is now empty."""
        with self._lock:
            members = self._groups.get(group)
            if members is None:
                return True
            members.pop(channel, None)
            if not self._prune(group, members, time.monotonic()):
                del self._groups[group]
                return True
            return False

    def members(self, group: str) -> list[str]:
        """Live members of *group* (expired ones are forgotten on the way)."""
        with self._lock:
            members = self._groups.get(group)
            if members is None:
                return []
            live = self._prune(group, members, time.monotonic())
            if not live:
                del self._groups[group]
            return live

    def has_members(self, group: str) -> bool:
        return bool(self.members(group))

    def groups(self) -> list[str]:
        """Every group with at least one live member."""
        with self._lock:
            names = list(self._groups)
        return [name for name in names if self.members(name)]

    def pairs(self) -> list[tuple[str, str]]:
        """Every live ``(group, channel)`` membership."""
        return [(group, channel) for group in self.groups() for channel in self.members(group)]

    def pop_expired(self) -> list[tuple[str, str]]:
        """Forget and return the memberships whose time is up (needs ``track_expired``)."""
        now = time.monotonic()
        with self._lock:
            for group, members in list(self._groups.items()):
                if not self._prune(group, members, now):
                    del self._groups[group]
            expired, self._expired = self._expired or [], []
        return expired

    def clear(self) -> None:
        with self._lock:
            self._groups.clear()
            if self._expired is not None:
                self._expired.clear()

    def _prune(self, group: str, members: dict[str, float], now: float) -> list[str]:
        # Caller holds the lock.
        expired = [channel for channel, deadline in members.items() if deadline <= now]
        for channel in expired:
            del members[channel]
        if self._expired is not None:
            self._expired.extend((group, channel) for channel in expired)
        return list(members)
