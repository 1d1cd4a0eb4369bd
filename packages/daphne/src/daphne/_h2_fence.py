"""The fence around Twisted's HTTP/2 module, which is private (``twisted.web._http2``).

daphne's HTTP/2 runs on Twisted's ``H2Connection`` channel and ``H2Stream`` (there is no
public API for either): it swaps in its own h2 state machine (``_h2conn``), sets the
channel's request factory and idle timeout, and drives streams for RFC 8441 WebSockets
(``_http2``, ``_h2websocket``). Twisted is a core dependency that applications pin for their
own reasons, so it gets no upper bound for this optional feature. Instead, everything daphne
reaches for is listed here and checked when a server starts with the HTTP/2 extra
installed: a Twisted that lacks one of them fails at once with an ``ImportError`` naming it,
instead of the first HTTP/2 client failing mid-stream. ``tests/test_h2_fence.py`` is the
contract test that a new Twisted release meets first.

This module imports Twisted only inside :func:`missing_internals`.
"""

from __future__ import annotations

import inspect

__all__ = ["CHANNEL_STATE", "REQUIRED", "check_twisted_h2", "missing_internals"]

#: Class members daphne calls, with the leading parameters it passes.
REQUIRED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("H2Connection", "__init__", ("self", "reactor")),
    ("H2Connection", "makeConnection", ("self", "transport")),
    ("H2Connection", "dataReceived", ("self", "data")),
    ("H2Connection", "connectionLost", ("self", "reason")),
    ("H2Connection", "setTimeout", ("self", "period")),
    ("H2Connection", "pauseProducing", ("self",)),
    ("H2Connection", "resumeProducing", ("self",)),
    ("H2Stream", "abortConnection", ("self",)),
    ("H2Stream", "pauseProducing", ("self",)),
    ("H2Stream", "resumeProducing", ("self",)),
)

#: What a new channel holds that daphne replaces or reads (``conn``: the h2 state machine).
CHANNEL_STATE: tuple[str, ...] = ("conn", "timeOut", "streams")


def missing_internals() -> list[str]:
    """What this Twisted lacks of ``REQUIRED`` and ``CHANNEL_STATE``; empty when it fits."""
    from twisted.internet.testing import MemoryReactorClock
    from twisted.web import _http2

    missing = []
    for owner, name, params in REQUIRED:
        member = getattr(getattr(_http2, owner, None), name, None)
        if member is None:
            missing.append(f"{owner}.{name}")
            continue
        found = tuple(inspect.signature(member).parameters)
        if found[: len(params)] != params:
            missing.append(f"{owner}.{name}{params} (has {found})")
    channel_class = getattr(_http2, "H2Connection", None)
    if channel_class is not None and "H2Connection.__init__" not in " ".join(missing):
        channel = channel_class(MemoryReactorClock())  # type: ignore[no-untyped-call]
        missing += [
            f"H2Connection().{name}" for name in CHANNEL_STATE if not hasattr(channel, name)
        ]
    return missing


def check_twisted_h2() -> None:
    """Raise ``ImportError`` naming what is missing if this Twisted cannot carry daphne's HTTP/2."""
    missing = missing_internals()
    if missing:
        from importlib.metadata import version

        raise ImportError(
            f"daphne's HTTP/2 runs on twisted.web._http2, and the installed Twisted "
            f"{version('twisted')} lacks {', '.join(missing)}. Install a Twisted release "
            "daphne's HTTP/2 supports (see daphne's CHANGELOG), or uninstall the http2 extra "
            "(h2, priority) to serve HTTP/1.1 only."
        )
