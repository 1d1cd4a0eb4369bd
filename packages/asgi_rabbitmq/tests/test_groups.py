"""Local group membership with expiry."""

from __future__ import annotations

import time

from asgi_rabbitmq._groups import GroupRegistry


def test_add_and_discard_report_emptiness() -> None:
    registry = GroupRegistry(expiry=60)
    assert registry.add("g", "a") is True
    assert registry.add("g", "b") is False
    assert sorted(registry.members("g")) == ["a", "b"]
    assert registry.discard("g", "a") is False
    assert registry.discard("g", "b") is True
    assert registry.members("g") == []
    assert registry.discard("never", "x") is True


def test_memberships_expire() -> None:
    registry = GroupRegistry(expiry=0.05)
    registry.add("g", "a")
    assert registry.pairs() == [("g", "a")]
    time.sleep(0.1)
    assert registry.members("g") == []
    assert registry.groups() == []


def test_pop_expired_returns_each_expired_pair_once() -> None:
    # Even the ones another call noticed first (add prunes the group it touches).
    registry = GroupRegistry(expiry=0.05, track_expired=True)
    registry.add("g", "a")
    registry.add("h", "b")
    time.sleep(0.1)
    registry.add("g", "fresh")
    assert sorted(registry.pop_expired()) == [("g", "a"), ("h", "b")]
    assert registry.pop_expired() == []
    assert registry.members("g") == ["fresh"]
