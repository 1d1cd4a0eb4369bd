"""Assertions shared by the checks, each with a message that names what was expected."""

from __future__ import annotations

from ._kit import Kit
from ._wire import Connection, Response

#: What must never reach a client: a Python traceback or the kit app's marker text.
LEAK_MARKERS = (b"Traceback (most recent call last)", b"Traceback-marker", b'File "/')


def assert_no_leak(conn: Connection) -> None:
    for marker in LEAK_MARKERS:
        assert marker not in conn.seen, (
            f"expected no traceback in what the client receives, found {marker!r} in "
            f"{bytes(conn.seen)[:300]!r}"
        )


def describe(response: Response | None) -> str:
    if response is None:
        return "no response (connection closed or silent)"
    return f"{response.status} {response.reason} (path {response.header('x-kit-path')!r})"


def refused(kit: Kit, raw: bytes, statuses: set[int], close_ok: bool = False) -> Response | None:
    """Send ``raw``; the server must answer one of ``statuses`` (or close, if allowed)."""
    with kit.connect() as conn:
        conn.send(raw)
        response = conn.read_response()
        assert_no_leak(conn)
    if response is None and close_ok:
        return None
    assert response is not None and response.status in statuses, (
        f"expected {sorted(statuses)}{' or a close' if close_ok else ''}, got {describe(response)}"
    )
    return response


def get(kit: Kit, raw: bytes, method: str = "GET", kind: str = "main") -> Response:
    """Send ``raw``, expect a response at all, and return it."""
    with kit.connect(kind) as conn:
        conn.send(raw)
        response = conn.read_response(method)
        assert_no_leak(conn)
    assert response is not None, f"expected a response to {raw[:80]!r}, got none"
    return response


def not_smuggled(kit: Kit, raw: bytes, statuses: set[int] | None) -> Response | None:
    """Ambiguous framing: the hidden request is never answered and the connection closes.

    With ``statuses`` the first response must also be one of them (a MUST reject case).
    """
    with kit.connect() as conn:
        conn.send(raw)
        first = conn.read_response("POST")
        closed = conn.closed_by_server(5.0)
        assert_no_leak(conn)
    assert b"/smuggled" not in conn.seen, (
        "expected the request hidden in the body never to be answered, but a response for "
        f"/smuggled arrived: {bytes(conn.seen)[:400]!r}"
    )
    if statuses is not None:
        assert first is not None and first.status in statuses, (
            f"expected {sorted(statuses)}, got {describe(first)}"
        )
    assert closed, (
        f"expected the server to close the connection after {describe(first)} to a request "
        "with ambiguous framing (RFC 9112 §6.1, §6.3), it stayed open"
    )
    return first


__all__ = ["LEAK_MARKERS", "assert_no_leak", "describe", "get", "not_smuggled", "refused"]
