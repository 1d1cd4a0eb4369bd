"""The pure group registry of the in-memory layer."""

from __future__ import annotations

from asgiref.layers._memory_groups import GroupRegistry


def test_add_members_and_expiry() -> None:
    groups = GroupRegistry(expiry=10)
    groups.add("g", "a", now=0)
    groups.add("g", "b", now=5)
    assert list(groups.members("g", now=9)) == ["a", "b"]
    assert list(groups.members("g", now=10)) == ["b"]  # a's deadline is 10: expired
    groups.expire(now=10)
    assert len(groups) == 1
    groups.expire(now=15)
    assert len(groups) == 0
    assert list(groups.members("g", now=15)) == []


def test_re_adding_refreshes_the_deadline() -> None:
    groups = GroupRegistry(expiry=10)
    groups.add("g", "a", now=0)
    groups.add("g", "a", now=8)
    groups.expire(now=12)  # the first entry is stale, the membership lives until 18
    assert list(groups.members("g", now=12)) == ["a"]
    assert len(groups) == 1


def test_discard_unknown_is_fine_and_empty_groups_vanish() -> None:
    groups = GroupRegistry(expiry=10)
    groups.discard("nope", "x")
    groups.add("g", "a", now=0)
    groups.discard("g", "zzz")
    groups.discard("g", "a")
    assert len(groups) == 0
    assert groups._groups == {}


def test_log_is_compacted_under_churn() -> None:
    groups = GroupRegistry(expiry=1000)
    for step in range(20_000):
        groups.add("g", f"c{step}", now=step * 0.001)
        groups.discard("g", f"c{step}")
    # Without compaction the log would hold 20,000 dead entries for 1000 s.
    assert len(groups._log) <= 1024 + 2
    groups.add("g", "live", now=30)
    assert list(groups.members("g", now=31)) == ["live"]


def test_members_may_change_during_iteration() -> None:
    groups = GroupRegistry(expiry=10)
    for name in "abc":
        groups.add("g", name, now=0)
    seen = []
    for member in groups.members("g", now=1):
        seen.append(member)
        groups.discard("g", member)
    assert seen == ["a", "b", "c"]
