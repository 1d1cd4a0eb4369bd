"""``daphne --workers N``: one port, N processes, rolling restarts on SIGHUP, drain on SIGTERM.

The process tests run the real command on a free port of 127.0.0.1 and find its workers
through ``/proc`` (children of the supervisor); the roster tests drive the pure decisions.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from daphne._listeners import split_description
from daphne._supervisor import Exit, Kill, Roster, Spawn, Terminate

TESTS = Path(__file__).parent
LIMIT = 60.0  # a hang guard for polling, never a timing assertion


def children_of(pid):
    """The live (not zombie) child processes of ``pid``, read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def running(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextlib.contextmanager
def supervisor(tmp_path, *args, pass_fds=()):
    """``python -m daphne <args> worker_apps:app``, its output in ``tmp_path/daphne.log``."""
    log = tmp_path / "daphne.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", *args, "worker_apps:app"],
            env={**os.environ, "PYTHONPATH": str(TESTS)},
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=pass_fds,
        )
    process.log = log
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(LIMIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def get_pid(port, path="/"):
    """The pid of the worker that answered a request on a fresh connection."""
    response = httpx.get(
        f"http://127.0.0.1:{port}{path}", timeout=30, headers={"Connection": "close"}
    )
    assert response.status_code == 200, response
    return int(response.text)


def serving_pids(process, port, wait_for, tmp_path):
    """The pids of two workers, each seen answering a request.

    The first request holds its worker's process (``/hold``), so the second one cannot be
    accepted by that worker: which worker accepts is otherwise the kernel's choice.
    """
    wait_for(lambda: len(children_of(process.pid)) >= 2 and _answers(process, port), LIMIT)
    mark = tmp_path / f"hold-{time.monotonic_ns()}"
    held = {}
    thread = threading.Thread(
        target=lambda: held.update(pid=get_pid(port, f"/hold?s=3&mark={mark}"))
    )
    thread.start()
    wait_for(lambda: mark.exists() and "started" in mark.read_text(), LIMIT)
    other = get_pid(port)
    thread.join(LIMIT)
    assert held["pid"] != other
    return {held["pid"], other}


def _answers(process, port):
    assert process.poll() is None, process.log.read_text()
    try:
        return get_pid(port) in children_of(process.pid)
    except httpx.TransportError:
        return False


class Client(threading.Thread):
    """Makes requests one after another, each on a new connection, until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stopping = threading.Event()
        self.pids = []
        self.failures = []

    def run(self):
        while not self.stopping.is_set():
            try:
                self.pids.append(get_pid(self.port))
            except Exception as exc:  # every failure is a finding, whatever its kind
                self.failures.append(repr(exc))

    def stop(self):
        self.stopping.set()
        self.join(LIMIT)


def test_two_workers_serve_on_one_port_from_two_processes(tmp_path, free_port, wait_for):
    port = free_port()
    with supervisor(tmp_path, "--workers", "2", "-p", str(port)) as process:
        pids = serving_pids(process, port, wait_for, tmp_path)
        assert len(pids) == 2
        assert process.pid not in pids
        assert children_of(process.pid) == pids


def test_sighup_replaces_every_worker_while_a_client_sees_no_failed_request(
    tmp_path, free_port, wait_for
):
    port = free_port()
    with supervisor(tmp_path, "--workers", "2", "-p", str(port)) as process:
        old = serving_pids(process, port, wait_for, tmp_path)
        client = Client(port)
        client.start()
        wait_for(lambda: len(client.pids) >= 20, LIMIT)
        process.send_signal(signal.SIGHUP)

        def replaced():
            now = children_of(process.pid)
            return len(now) == 2 and not now & old

        wait_for(replaced, LIMIT)
        new = children_of(process.pid)
        # The client goes on until a new worker has answered it too.
        wait_for(lambda: set(client.pids) & new, LIMIT)
        client.stop()
        assert client.failures == [], process.log.read_text()
        assert set(client.pids) <= old | new
        assert set(client.pids) & old
        assert serving_pids(process, port, wait_for, tmp_path) == new
        assert process.poll() is None


def test_sigterm_lets_a_request_in_flight_finish_and_exits_0(tmp_path, free_port, wait_for):
    port = free_port()
    mark = tmp_path / "mark"
    with supervisor(tmp_path, "--workers", "2", "-p", str(port)) as process:
        workers = serving_pids(process, port, wait_for, tmp_path)
        result = {}

        def slow():
            result["pid"] = get_pid(port, f"/slow?s=2&mark={mark}")

        thread = threading.Thread(target=slow)
        thread.start()
        wait_for(lambda: mark.exists() and "started" in mark.read_text(), LIMIT)
        process.send_signal(signal.SIGTERM)
        thread.join(LIMIT)
        assert result["pid"] in workers
        assert process.wait(LIMIT) == 0, process.log.read_text()
        assert not children_of(process.pid)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_a_worker_killed_with_sigkill_is_replaced(tmp_path, free_port, wait_for):
    port = free_port()
    with supervisor(tmp_path, "--workers", "2", "-p", str(port)) as process:
        workers = serving_pids(process, port, wait_for, tmp_path)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)

        def replaced():
            now = children_of(process.pid)
            return len(now) == 2 and victim not in now

        wait_for(replaced, LIMIT)
        survivors = serving_pids(process, port, wait_for, tmp_path)
        assert victim not in survivors
        assert "exited unexpectedly" in process.log.read_text()


def test_workers_share_an_inherited_listening_socket(tmp_path, wait_for):
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(50)
        port = listening.getsockname()[1]
        fd = listening.fileno()
        with supervisor(tmp_path, "--workers", "2", "--fd", str(fd), pass_fds=[fd]) as process:
            assert len(serving_pids(process, port, wait_for, tmp_path)) == 2


def test_workers_drain_and_leave_when_their_supervisor_is_killed(tmp_path, free_port, wait_for):
    port = free_port()
    with supervisor(tmp_path, "--workers", "2", "-p", str(port)) as process:
        workers = serving_pids(process, port, wait_for, tmp_path)
        process.kill()
        process.wait(LIMIT)
        wait_for(lambda: not any(running(pid) for pid in workers), LIMIT)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_a_supervisor_whose_workers_cannot_start_exits_1(tmp_path, free_port):
    port = free_port()
    command = [sys.executable, "-m", "daphne", "--workers", "2", "-p", str(port), "no_such:app"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=LIMIT)
    assert result.returncode == 1, result.stderr
    assert "no_such" in result.stderr


@pytest.mark.parametrize(
    "endpoint, reason",
    [
        (["-u", "daphne.sock"], "removes a Unix socket's path"),
        (["-e", "ssl:0:privateKey=k.pem"], "TLS endpoints bind their own socket"),
        (["-e", "tcp:port=0:reuse=1"], "expected 'tcp:port=N"),
    ],
)
def test_endpoints_workers_cannot_share_are_a_usage_error(tmp_path, endpoint, reason):
    command = [sys.executable, "-m", "daphne", "--workers", "2", *endpoint, "worker_apps:app"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=LIMIT, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--workers shares tcp:, tcp6: and fd: (TCP) endpoints" in result.stderr
    assert reason in result.stderr


def test_workers_must_be_positive():
    command = [sys.executable, "-m", "daphne", "--workers", "0", "worker_apps:app"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=LIMIT)
    assert result.returncode == 2
    assert "expected a positive number, got '0'" in result.stderr


def test_endpoint_descriptions_are_split_on_unescaped_colons():
    assert split_description(r"tcp:8000:interface=\:\:1") == ("tcp", ["8000"], {"interface": "::1"})
    assert split_description("fd:fileno=3") == ("fd", [], {"fileno": "3"})


# The roster's decisions, without processes --------------------------------------------------


def started(roster, now, *pids, ready=True):
    assert roster.decide(now) == [Spawn()] * len(pids)
    for pid in pids:
        roster.spawned(pid, now)
        if ready:
            roster.became_ready(pid)


def test_the_roster_starts_the_target_at_once():
    roster = Roster(3, drain_limit=10)
    started(roster, 0, 1, 2, 3)
    assert roster.decide(0) == []


def test_a_rolling_restart_retires_one_old_worker_per_new_ready_one():
    roster = Roster(2, drain_limit=10)
    started(roster, 0, 1, 2)
    roster.hangup()
    started(roster, 1, 3, ready=False)
    assert roster.decide(1) == []  # one replacement at a time; nothing retired before it is ready
    roster.became_ready(3)
    assert roster.decide(2) == [Terminate(1), Spawn()]
    roster.spawned(4, 2)
    assert roster.exited(1, 3) is False
    roster.became_ready(4)
    assert roster.decide(4) == [Terminate(2)]
    roster.exited(2, 5)
    assert roster.decide(5) == []


def test_a_worker_that_does_not_drain_in_time_is_killed():
    roster = Roster(1, drain_limit=10)
    started(roster, 0, 1)
    roster.stop()
    assert roster.decide(1) == [Terminate(1)]
    assert roster.wake_at(1) == 11
    assert roster.decide(5) == []
    assert roster.decide(11) == [Kill(1)]
    roster.exited(1, 12)
    assert roster.decide(12) == [Exit(0)]


def test_crashed_workers_come_back_after_a_growing_backoff():
    roster = Roster(1, drain_limit=10)
    started(roster, 0, 1)
    assert roster.exited(1, 1) is True
    first = roster.wake_at(1)
    assert first is not None and first > 1
    assert roster.decide(1) == []
    started(roster, first, 2, ready=False)
    assert roster.exited(2, first) is True
    second = roster.wake_at(first)
    assert second is not None and second - first > first - 1


def test_no_worker_ever_ready_stops_everything_with_status_1():
    roster = Roster(2, drain_limit=10)
    started(roster, 0, 1, 2, ready=False)
    assert roster.exited(1, 1) is True
    assert roster.decide(1) == [Terminate(2)]
    roster.exited(2, 2)
    assert roster.decide(2) == [Exit(1)]
