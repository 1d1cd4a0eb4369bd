"""The contract with Twisted's private HTTP/2 module: every internal daphne relies on is there,
and a server with the HTTP/2 extra refuses to start, naming it, when one is not."""

from __future__ import annotations

import pytest
from daphne import _h2_fence as fence
from twisted.web import _http2


def test_every_twisted_http2_internal_daphne_relies_on_is_there():
    assert fence.missing_internals() == []


def test_a_missing_method_fails_the_check_by_name(monkeypatch):
    monkeypatch.delattr(_http2.H2Stream, "abortConnection")
    with pytest.raises(ImportError, match=r"lacks H2Stream\.abortConnection"):
        fence.check_twisted_h2()


def test_a_changed_signature_is_reported(monkeypatch):
    def set_timeout(self, seconds, extra):  # a renamed parameter
        pass

    monkeypatch.setattr(_http2.H2Connection, "setTimeout", set_timeout)
    assert fence.missing_internals() == [
        "H2Connection.setTimeout('self', 'period') (has ('self', 'seconds', 'extra'))"
    ]


def test_missing_channel_state_is_reported(monkeypatch):
    original = _http2.H2Connection.__init__

    def without_conn(self, reactor=None):
        original(self, reactor)
        del self.conn

    monkeypatch.setattr(_http2.H2Connection, "__init__", without_conn)
    assert fence.missing_internals() == ["H2Connection().conn"]
