"""bench/goals.py: its table is consistent, it finds figures in real results records, and a
benchmark that fails is reported as failed instead of ending the run."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

import goals  # noqa: E402
from _results import Series, Workload, write_results  # noqa: E402


def test_every_goal_names_an_existing_benchmark() -> None:
    assert len({goal.name for goal in goals.GOALS}) == len(goals.GOALS)
    for goal in goals.GOALS:
        bench = goals.BENCHES[goal.bench]
        assert (BENCH / bench.script).is_file(), bench.script
        assert bench.json_names and bench.estimate_s > 0
    assert {goal.bench for goal in goals.GOALS} == set(goals.BENCHES)


def test_list_prints_every_goal_and_the_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    assert goals.main(["--list", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "estimated time" in out
    for goal in goals.GOALS:
        assert goal.name in out


def test_chat_goals_read_the_committed_results() -> None:
    record = json.loads((BENCH / "results" / "chat_broadcast.json").read_text())
    by_name = {g.name: g for g in goals.GOALS if g.bench == "chat_broadcast"}
    p50 = by_name["chat broadcast 1,000 sockets p50"].extract(record)
    p99 = by_name["chat broadcast 1,000 sockets p99"].extract(record)
    assert 10 < p50 < p99 < 1000


def test_redis_goals_read_what_asgi_redis_bench_writes(tmp_path: Path) -> None:
    from _redis_workloads import workloads

    figures = {}
    for stack, p50 in (("ours", 9.0), ("upstream", 27.0), ("floor", 3.0), ("ours-fernet", 11.0)):
        figures[f"loops_1000_{stack}_p50_ms"] = p50
        figures[f"loops_1000_{stack}_p90_ms"] = p50 * 2
    path = write_results("asgi_redis_bench", workloads(figures, 1000), {}, tmp_path)
    record = json.loads(path.read_text())
    by_name = {g.name: g for g in goals.GOALS if g.bench == "asgi_redis_bench"}
    assert by_name["Redis group_send to 1,000 members, consumer loop each"].extract(record) == 9.0
    assert by_name["stay ahead: Redis group_send loops vs upstream"].extract(record) == 3.0


def test_a_failing_benchmark_is_reported_not_raised(tmp_path: Path) -> None:
    broken = goals.Bench("no_such_bench.py", (), (), ("no_such_bench.json",), 1)
    outcome = goals.run_bench("broken", broken, True, tmp_path)
    assert outcome["returncode"] != 0 and outcome["record"] is None
    assert "exit" in outcome["error"]
    goal = goals.Goal("some goal", "broken", "ms", True, 1, lambda record: 0.0)
    goals.BENCHES["broken"] = broken
    try:
        rows = goals.evaluate([goal], {"broken": [outcome]}, quick=True)
    finally:
        del goals.BENCHES["broken"]
    assert rows[0]["result"] == "failed" and rows[0]["median"] is None
    assert "| some goal |" in goals.markdown(rows, 1, quick=True)


def test_a_missing_figure_is_reported_with_what_was_looked_for(tmp_path: Path) -> None:
    workload = Workload("something else", "ms", True, ["p50"], [Series("x", "ours", {"p50": 1})])
    record = json.loads(write_results("chat_broadcast", [workload], {}, tmp_path).read_text())
    goal = next(g for g in goals.GOALS if g.bench == "chat_broadcast")
    value, problem = goals.figure(goal, {"record": record})
    assert value is None and "chat broadcast to 1000 sockets" in problem


def test_asgiref_goals_read_their_benchmarks_names(tmp_path: Path) -> None:
    # The names bench/asgiref_sync.py and bench/asgiref_layers.py write (see their workloads()).
    sync = Workload(
        "async_to_sync from a plain thread (median rate of rounds)",
        "calls/s",
        False,
        ["async_to_sync, plain thread"],
        [
            Series("ours", "ours", {"async_to_sync, plain thread": 90_000.0}),
            Series("upstream", "upstream", {"async_to_sync, plain thread": 8_000.0}),
        ],
        {"headline": {"ratio": 11.5}},
    )
    fan_out = Workload(
        "in-memory layer: group_send, time until every member received it",
        "µs",
        True,
        ["fan-out 1", "fan-out 100", "fan-out 1000"],
        [Series("ours", "ours", {"fan-out 1": 9.0, "fan-out 100": 400.0, "fan-out 1000": 4_200.0})],
    )
    by_name = {g.name: g for g in goals.GOALS}
    record = json.loads(write_results("asgiref", [sync, fan_out], {}, tmp_path).read_text())
    assert by_name["async_to_sync from a plain thread calls/s"].extract(record) == 11.5
    assert by_name["in-memory group_send to 1,000 members"].extract(record) == pytest.approx(4.2)


def test_a_benchmark_past_its_time_is_ended_with_its_servers(tmp_path: Path) -> None:
    pid_file = tmp_path / "server.pid"
    script = tmp_path / "hangs.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "server = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(server.pid))\n"
        "time.sleep(600)\n"
    )
    hangs = goals.Bench(str(script), (), (), ("hangs.json",), 1)
    outcome = goals.run_bench("hangs", hangs, True, tmp_path / "out", timeout=3)
    assert outcome["returncode"] == "timeout" and outcome["seconds"] < 30
    server = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while running(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(server)


def running(pid: int) -> bool:
    """Whether *pid* exists and is not a zombie (a killed orphan waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
