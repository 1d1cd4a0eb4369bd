"""What the gateway and its workers say to each other over the channel layer (pure).

Every message is a plain dict with a ``type``, so any layer's serializer can
carry it (tuples become lists on the way and are restored by
:func:`scope_from_wire`).

Gateway to worker (on the worker's process-local channel):

* ``gateway.open``    ``conn``, ``reply`` (the gateway's channel), ``epoch``,
  ``scope``: run a new application instance for the connection.
* ``gateway.event``   ``conn``, ``epoch``, ``event``: one ASGI receive event.
* ``gateway.release`` ``conn``, ``epoch``: hand the WebSocket back.
* ``gateway.leave_ack`` ``reply``: that gateway sends nothing new after this.

Worker to gateway (on the gateway's process-local channel):

* ``worker.send``     ``conn``, ``epoch``, ``event``: one ASGI send message.
* ``worker.released`` ``conn``, ``epoch``: the released instance has ended.
* ``worker.finished`` ``conn``, ``epoch``, ``error``: the instance returned
  (``error`` is None) or raised (its ``repr``).

Worker to every gateway (group :data:`GATEWAY_GROUP`): ``worker.heartbeat``
(``worker``, ``leaving``) and ``worker.gone`` (``worker``).

Invariants: a connection id is unique per gateway channel; ``epoch`` grows
by one at every (re)assignment, and a worker message whose epoch is not the
connection's current one (or, while it moves, the previous one) is stale and
dropped. One sender writes each (conn, epoch) stream to one channel, so the
layer's per-channel FIFO keeps each connection's order.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CONNECTION_EXTENSION",
    "GATEWAY_GROUP",
    "RESUMED_EXTENSION",
    "gateway_scope",
    "scope_from_wire",
    "scope_to_wire",
]

#: The group every gateway joins; workers announce themselves to it.
GATEWAY_GROUP = "daphne.gateways"
#: ``scope["extensions"]`` key present on every connection served in gateway mode.
CONNECTION_EXTENSION = "daphne.gateway"
#: ``scope["extensions"]`` key present only when the connection was moved here.
RESUMED_EXTENSION = "resumed"
#: An application that receives on the connection's channel sets this key in
#: ``scope["extensions"]["daphne.gateway"]`` to True: its handback then comes as a
#: ``{"type": "websocket.handback"}`` message on that channel, behind the group
#: messages already there (which it handles first; later ones wait for the next instance).
HANDBACK_VIA_CHANNEL = "handback_via_channel"

OPEN = "gateway.open"
EVENT = "gateway.event"
RELEASE = "gateway.release"
LEAVE_ACK = "gateway.leave_ack"
SEND = "worker.send"
RELEASED = "worker.released"
FINISHED = "worker.finished"
HEARTBEAT = "worker.heartbeat"
GONE = "worker.gone"

# Scope keys that cannot cross a process boundary: lifespan state is a live
# object of the gateway process, never the worker's.
_LOCAL_KEYS = frozenset({"state"})
_PAIR_KEYS = ("client", "server")


def _plain(value: Any) -> Any:
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    raise TypeError(
        f"A gateway scope carries only str, bytes, numbers, lists and dicts; "
        f"got {type(value).__name__}: {value!r}"
    )


def scope_to_wire(scope: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of *scope* that every layer serializer can carry."""
    return {key: _plain(value) for key, value in scope.items() if key not in _LOCAL_KEYS}


def scope_from_wire(wire: dict[str, Any]) -> dict[str, Any]:
    """Undo the list conversion where ASGI prescribes tuples (headers, client, server)."""
    scope = dict(wire)
    if "headers" in scope:
        scope["headers"] = [(bytes(name), bytes(value)) for name, value in scope["headers"]]
    for key in _PAIR_KEYS:
        if isinstance(scope.get(key), list):
            scope[key] = tuple(scope[key])
    return scope


def gateway_scope(
    scope: dict[str, Any], *, conn: str, channel_name: str, epoch: int, resumed: str | None
) -> dict[str, Any]:
    """Return the scope a worker's application sees for one assignment.

    ``extensions["daphne.gateway"]`` names the connection, the stable
    channel name its consumer uses across moves and the assignment's epoch
    (a ``websocket.handback`` on the channel names the epoch it is for: one
    left over from an earlier instance is ignored); ``extensions["resumed"]``
    (``{"reason": "redeploy" | "crash"}``) appears only on a resumed
    connection. daphne's own WebSocket scope has no ``extensions`` key
    (Daphne 4 compatibility); the gateway adds one to what it forwards.
    """
    extensions = dict(scope.get("extensions") or {})
    extensions[CONNECTION_EXTENSION] = {
        "connection": conn,
        "channel_name": channel_name,
        "epoch": epoch,
    }
    if resumed is not None:
        extensions[RESUMED_EXTENSION] = {"reason": resumed}
    else:
        extensions.pop(RESUMED_EXTENSION, None)
    return {**scope, "extensions": extensions}
