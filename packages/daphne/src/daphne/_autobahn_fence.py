"""The fence around Autobahn: which releases daphne was written for, and which of their
internals it relies on.

daphne keeps Autobahn for the handshake details, extensions (permessage-deflate) and the
general frame parser, but goes around it on the hot path (see ``_autobahn``): a connection is
set up without the Twisted adapter's per-connection transport details, small unfragmented
frames are parsed and sent directly, and an accepted handshake is handed in rather than
re-parsed. That needs Autobahn's non-public methods and per-connection state, listed here;
the WebSocket echo and handshake benchmarks in ``bench/`` measure what the fast paths buy.

Rules:

* ``pyproject.toml`` bounds ``autobahn`` to ``SUPPORTED``; the bound moves only after the
  contract test (``tests/test_autobahn_fence.py``) and the WebSocket suites pass on the new
  release.
* Starting a server with an Autobahn that lacks one of ``REQUIRED`` fails at once with an
  ``ImportError`` naming it, instead of a connection failing mid-frame later.
"""

from __future__ import annotations

import inspect

__all__ = ["REQUIRED", "SUPPORTED", "check_autobahn", "missing_internals", "version_supported"]

#: The Autobahn releases this daphne was written and tested for: [lowest, first unsupported).
SUPPORTED: tuple[tuple[int, int], tuple[int, int]] = ((23, 1), (27, 0))

#: What daphne calls or overrides, with the leading parameters it passes: ``WebSocketProtocol``
#: is Autobahn's framework-independent protocol (daphne calls two of its methods directly,
#: past the Twisted adapter), ``WebSocketServerProtocol`` its Twisted server protocol.
REQUIRED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("WebSocketProtocol", "_connectionMade", ("self",)),
    ("WebSocketProtocol", "_connectionLost", ("self", "reason")),
    ("WebSocketServerProtocol", "_dataReceived", ("self", "data")),
    ("WebSocketServerProtocol", "_onOpen", ("self",)),
    ("WebSocketServerProtocol", "_parseExtensionsHeader", ("self", "header")),
    ("WebSocketServerProtocol", "processData", ("self",)),
    ("WebSocketServerProtocol", "sendData", ("self", "data", "sync", "chopsize")),
    (
        "WebSocketServerProtocol",
        "sendMessage",
        ("self", "payload", "isBinary", "fragmentSize", "sync", "doNotCompress"),
    ),
    ("WebSocketServerProtocol", "succeedHandshake", ("self", "res")),
    ("WebSocketServerProtocol", "CONFIG_ATTRS", ()),
    ("WebSocketServerProtocol", "STATE_OPEN", ()),
    ("WebSocketServerProtocol", "STATE_CONNECTING", ()),
)

#: Per-connection state that an opened connection has and daphne's fast paths read or set.
STATE: tuple[str, ...] = (
    "current_frame",
    "data",
    "send_queue",
    "_perMessageCompress",
    "state",
    "trafficStats",
    "websocket_version",
    "websocket_protocols",
    "websocket_extensions",
)


def version_supported(version: str) -> bool:
    """Whether an Autobahn version string lies in ``SUPPORTED``."""
    try:
        key = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    low, high = SUPPORTED
    return low <= key < high


def missing_internals() -> list[str]:
    """The members of ``REQUIRED`` (and parameters) this Autobahn lacks; empty when it fits."""
    from autobahn.twisted.websocket import WebSocketServerProtocol
    from autobahn.websocket.protocol import WebSocketProtocol

    owners = {
        "WebSocketProtocol": WebSocketProtocol,
        "WebSocketServerProtocol": WebSocketServerProtocol,
    }
    missing = []
    for owner, name, params in REQUIRED:
        member = getattr(owners[owner], name, None)
        if member is None:
            missing.append(f"{owner}.{name}")
        elif params:
            found = tuple(inspect.signature(member).parameters)
            if found[: len(params)] != params:
                missing.append(f"{owner}.{name}{params} (has {found})")
    return missing


def check_autobahn() -> None:
    """Raise ``ImportError`` naming what is missing if this Autobahn cannot carry daphne."""
    missing = missing_internals()
    if missing:
        from importlib.metadata import version

        low, high = SUPPORTED
        raise ImportError(
            f"daphne's WebSocket support was written for Autobahn {low[0]}.{low[1]} up to "
            f"(not including) {high[0]}.{high[1]}; the installed Autobahn "
            f"{version('autobahn')} lacks {', '.join(missing)}. Install a supported release: "
            f'pip install "autobahn>={low[0]}.{low[1]},<{high[0]}"'
        )
