"""The Autobahn contract: the installed release is one daphne was written for, and every
internal daphne relies on is there. A new Autobahn release fails here, loudly, first."""

from __future__ import annotations

import re
from pathlib import Path

import autobahn
import pytest
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.protocol import WebSocketProtocol
from daphne import _autobahn_fence as fence
from twisted.internet.testing import MemoryReactorClock, StringTransport

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_installed_autobahn_is_a_supported_release():
    assert fence.version_supported(autobahn.__version__), (
        f"daphne was not written for Autobahn {autobahn.__version__}: run the WebSocket suites "
        "and this contract on it, then move _autobahn_fence.SUPPORTED and pyproject's bound"
    )


def test_every_internal_daphne_relies_on_is_there():
    assert fence.missing_internals() == []


def test_an_opened_connection_has_the_state_daphne_reads():
    protocol = WebSocketServerProtocol()
    # A reactor of its own: without one Autobahn imports (installs) Twisted's global reactor
    # in the test process, which the forked test servers would then inherit.
    protocol.factory = WebSocketServerFactory(reactor=MemoryReactorClock())
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert transport.value().startswith(b"HTTP/1.1 101 ")
    assert protocol.state == WebSocketProtocol.STATE_OPEN
    for name in fence.STATE:
        assert hasattr(protocol, name), f"Autobahn no longer keeps {name!r} per connection"


def test_pyproject_bounds_autobahn_to_the_supported_range():
    (spec,) = re.findall(r'^\s*"(autobahn\b[^"]*)"', PYPROJECT.read_text(), re.MULTILINE)
    (low_major, low_minor), (high_major, high_minor) = fence.SUPPORTED
    assert spec == f"autobahn>={low_major}.{low_minor},<{high_major}"
    assert high_minor == 0


def test_a_missing_internal_fails_the_import_check_by_name(monkeypatch):
    monkeypatch.delattr(WebSocketProtocol, "_dataReceived")
    with pytest.raises(ImportError, match=r"lacks WebSocketServerProtocol\._dataReceived"):
        fence.check_autobahn()


def test_a_changed_signature_is_reported(monkeypatch):
    monkeypatch.setattr(WebSocketProtocol, "_connectionLost", lambda self, why, extra: None)
    assert fence.missing_internals() == [
        "WebSocketProtocol._connectionLost('self', 'reason') (has ('self', 'why', 'extra'))"
    ]


@pytest.mark.parametrize(
    ("version", "supported"),
    [("23.1.0", True), ("26.11.1", True), ("22.12.1", False), ("27.0.0", False), ("x", False)],
)
def test_version_ranges(version, supported):
    assert fence.version_supported(version) is supported
