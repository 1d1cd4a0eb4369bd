"""Twisted endpoint description strings built from host/port, UNIX socket and fd options."""

from __future__ import annotations

import pytest
from daphne.endpoints import build_endpoint_description_strings


def test_endpoints():
    assert build_endpoint_description_strings(host="127.0.0.1", port=8000) == [
        "tcp:port=8000:interface=127.0.0.1"
    ]
    assert build_endpoint_description_strings(host="[::1]", port=80) == [
        r"tcp:port=80:interface=\:\:1"
    ]
    assert build_endpoint_description_strings(unix_socket="/tmp/s", file_descriptor=5) == [
        "unix:/tmp/s",
        "fd:fileno=5",
    ]
    with pytest.raises(ValueError, match="both host and port"):
        build_endpoint_description_strings(host="h")
