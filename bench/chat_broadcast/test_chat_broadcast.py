"""The benchmark's smoke mode runs end to end and its delivery check holds (about 10 s).

    pytest bench/chat_broadcast -p no:cacheprovider

Needs Redis on 127.0.0.1:6379, taskset, and daphne, uvicorn and our packages installed. It
asserts what the run produced, never how fast: timings belong to the benchmark itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent


def test_smoke_mode_reports_every_stack_and_checks_delivery(tmp_path: Path) -> None:
    command = [
        sys.executable,
        str(BENCH / "chat_broadcast.py"),
        *("--sockets", "20", "--broadcasts", "3", "--rounds", "1"),
        *("--no-upstream", "--no-charts", "--output", str(tmp_path)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "chat_broadcast.json").read_text())
    broadcast, connects = record["workloads"]
    assert [s["label"] for s in broadcast["series"]] == ["ours (daphne)", "uvicorn + our channels"]
    for series in broadcast["series"]:
        assert set(series["values"]) == {"p50", "p99"}
        assert all(value > 0 for value in series["values"].values())
    assert connects["metrics"] == ["20 sockets"]
    assert len(record["meta"]["machine_before"]["loadavg"]) == 3


def test_a_socket_that_misses_a_message_fails_the_run() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from load_client import BenchFailure, Member, check_delivery
    finally:
        sys.path.pop(0)
    member = Member.__new__(Member)
    member.received, member.error = [0, 2], None
    try:
        check_delivery([member], [0, 1, 2])
    except BenchFailure as exc:
        assert "expected each of 0..2 exactly once, in order" in str(exc)
    else:
        raise AssertionError("a missed message passed the delivery check")


def test_a_server_ping_is_answered_and_is_not_a_message() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from load_client import Member
    finally:
        sys.path.pop(0)

    class Transport:
        written: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.written.append(data)

    member = Member.__new__(Member)
    member.transport = Transport()  # type: ignore[assignment]
    member.received, member.error, member.on_message = [], None, lambda seq: None
    member.buffer = b"\x89\x04ping" + b'\x81\x11{"message": "7:"}'
    member._frames()
    assert member.error is None
    assert member.received == [7]
    (pong,) = Transport.written
    assert pong[0] == 0x8A and pong[1] == 0x84  # FIN + pong, masked, 4 bytes
