"""Twisted endpoint description strings built from host/port, UNIX socket and fd options."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("tcp:port=8000:interface=127.0.0.1", "tcp:port=8000:interface=127.0.0.1:backlog=2048"),
        ("tcp:8000", "tcp:8000:backlog=2048"),
        (r"tcp6:port=80:interface=\:\:1", r"tcp6:port=80:interface=\:\:1:backlog=2048"),
        ("unix:/tmp/s", "unix:/tmp/s:backlog=2048"),
        ("ssl:443:privateKey=k.pem", "ssl:443:privateKey=k.pem:backlog=2048"),
        ("tcp:port=8000:backlog=10", "tcp:port=8000:backlog=10"),  # the user's choice stands
        ("fd:fileno=3", "fd:fileno=3"),  # an inherited socket listens already
        ("systemd:domain=INET:index=0", "systemd:domain=INET:index=0"),
    ],
)
def test_listening_endpoints_get_a_backlog_that_absorbs_a_burst(description, expected):
    from daphne._endpoints import with_default_backlog

    assert with_default_backlog(description) == expected


def test_the_served_socket_listens_with_that_backlog(server):
    # ss reports a listening socket's backlog as its Send-Q (capped by net.core.somaxconn).
    import shutil
    import subprocess

    from daphne._listeners import DEFAULT_BACKLOG

    assert shutil.which("ss"), "the ss command (iproute2) is needed: apt-get install iproute2"
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{server[1]}"], capture_output=True, text=True, check=True
    ).stdout
    somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
    assert int(out.split()[2]) == min(DEFAULT_BACKLOG, somaxconn), out
