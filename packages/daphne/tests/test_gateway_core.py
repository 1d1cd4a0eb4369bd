"""The gateway's pure cores: worker liveness and picking, one connection's state, the wire."""

from __future__ import annotations

import pytest
from daphne.gateway._registry import WorkerRegistry
from daphne.gateway._state import BufferOverflow, ConnectionState, Phase
from daphne.gateway._wire import gateway_scope, scope_from_wire, scope_to_wire


def test_a_worker_is_live_until_its_heartbeats_are_stale_after_seconds_old() -> None:
    registry = WorkerRegistry(stale_after=3.0)
    assert registry.heartbeat("w1", now=10.0) is True
    assert registry.heartbeat("w1", now=11.0) is False
    assert registry.is_live("w1", now=14.0)
    assert not registry.is_live("w1", now=14.5)
    assert registry.stale(now=14.5) == ["w1"]


def test_a_leaving_worker_takes_nothing_new_and_a_late_heartbeat_does_not_revive_it() -> None:
    registry = WorkerRegistry(stale_after=3.0)
    registry.heartbeat("w1", now=0.0)
    registry.leaving("w1", now=1.0)
    registry.heartbeat("w1", now=1.5)
    assert registry.is_present("w1", now=2.0)
    assert registry.pick(now=2.0) is None


def test_picking_prefers_the_fewest_connections_then_takes_turns() -> None:
    registry = WorkerRegistry(stale_after=3.0)
    for name in ("a", "b"):
        registry.heartbeat(name, now=0.0)
    registry.assigned("a", +2)
    assert {registry.pick(now=0.0) for _ in range(4)} == {"b"}
    registry.assigned("b", +2)
    assert {registry.pick(now=0.0) for _ in range(4)} == {"a", "b"}
    assert registry.pick(now=0.0, exclude=frozenset({"a", "b"})) is None


def test_stale_after_must_be_positive() -> None:
    with pytest.raises(ValueError, match="stale_after must be positive"):
        WorkerRegistry(stale_after=0)


def test_events_during_a_move_are_buffered_in_order_up_to_the_bound() -> None:
    state = ConnectionState(conn="1", kind="websocket", buffer_limit=2)
    state.assign("w1", resumed=False)
    assert state.client_event({"type": "websocket.connect"}) is True
    state.start_move()
    assert state.client_event({"type": "websocket.receive", "text": "a"}) is False
    assert state.client_event({"type": "websocket.receive", "text": "b"}) is False
    with pytest.raises(BufferOverflow, match="more than 2 client events"):
        state.client_event({"type": "websocket.receive", "text": "c"})
    assert [e["text"] for e in state.take_buffer()] == ["a", "b"]


def test_a_resumed_assignment_swallows_one_accept_and_old_epochs_cannot_close() -> None:
    state = ConnectionState(conn="1", kind="websocket", buffer_limit=10)
    state.assign("w1", resumed=False)
    assert state.worker_event(1, {"type": "websocket.accept"}) is True
    state.start_move()
    assert state.worker_event(1, {"type": "websocket.send", "text": "late"}) is True
    assert state.worker_event(1, {"type": "websocket.close"}) is False
    state.assign("w2", resumed=True)
    assert state.worker_event(2, {"type": "websocket.accept"}) is False
    assert state.worker_event(1, {"type": "websocket.send", "text": "stale"}) is False
    assert state.worker_event(2, {"type": "websocket.close"}) is True
    assert state.phase is Phase.ASSIGNED


def test_moving_an_unassigned_connection_is_a_loud_error() -> None:
    state = ConnectionState(conn="1", kind="http", buffer_limit=10)
    with pytest.raises(RuntimeError, match="cannot move while unassigned"):
        state.start_move()


def test_a_scope_crosses_the_wire_with_its_tuples_restored() -> None:
    scope = {
        "type": "websocket",
        "headers": [(b"host", b"x")],
        "client": ("1.2.3.4", 5),
        "state": {"live": object()},
    }
    wire = scope_to_wire(gateway_scope(scope, conn="7", channel_name="c", epoch=2, resumed=None))
    assert "state" not in wire
    back = scope_from_wire(wire)
    assert back["headers"] == [(b"host", b"x")] and back["client"] == ("1.2.3.4", 5)
    assert back["extensions"] == {
        "daphne.gateway": {"connection": "7", "channel_name": "c", "epoch": 2}
    }
    resumed = gateway_scope(scope, conn="7", channel_name="c", epoch=3, resumed="crash")
    assert resumed["extensions"]["resumed"] == {"reason": "crash"}


def test_a_scope_value_that_cannot_cross_is_named() -> None:
    with pytest.raises(TypeError, match="got object"):
        scope_to_wire({"type": "http", "odd": object()})
