"""``--gc-threshold``: the collector is set up for serving once the server starts (``_gc``).

Each case runs in its own process: the collector's settings belong to the whole interpreter.
"""

from __future__ import annotations

import gc
import subprocess
import sys

import httpx
import pytest
from daphne._gc import DEFAULT_GEN0_THRESHOLD, INTERPRETER_DEFAULTS

LIMIT = 60.0


def served_gc_state(cli_server, free_port, *args, env=None):
    port = free_port()
    with cli_server(["-p", str(port), *args, "gc_apps:app"], port=port, env=env):
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=LIMIT)
    assert response.status_code == 200
    return response.json()


def test_this_interpreter_starts_with_a_threshold_the_module_knows():
    # A child interpreter, since this test process may have been changed by a plugin.
    out = subprocess.run(
        [sys.executable, "-c", "import gc; print(*gc.get_threshold())"],
        capture_output=True, text=True, check=True, timeout=LIMIT,
    ).stdout  # fmt: skip
    assert tuple(int(part) for part in out.split()) in INTERPRETER_DEFAULTS


def test_the_server_raises_the_threshold_and_freezes_what_exists(cli_server, free_port):
    state = served_gc_state(cli_server, free_port)
    assert state["thresholds"][0] == DEFAULT_GEN0_THRESHOLD
    assert state["frozen"] > 1000  # the interpreter, daphne, Twisted and the application
    assert not state["import_object_collectable"]
    assert state["enabled"]


def test_the_threshold_is_an_option(cli_server, free_port):
    state = served_gc_state(cli_server, free_port, "--gc-threshold", "25000")
    assert state["thresholds"][0] == 25000


def test_zero_leaves_the_collector_alone(cli_server, free_port):
    state = served_gc_state(cli_server, free_port, "--gc-threshold", "0")
    assert tuple(state["thresholds"]) in INTERPRETER_DEFAULTS
    assert state["frozen"] == 0
    assert state["import_object_collectable"]


def test_an_application_that_chose_its_thresholds_keeps_them(cli_server, free_port):
    state = served_gc_state(cli_server, free_port, env={"GC_APP_THRESHOLDS": "1500,20,30"})
    assert state["thresholds"] == [1500, 20, 30]
    assert state["frozen"] > 1000  # start-up objects are still frozen


def test_a_disabled_collector_stays_disabled_and_unfrozen(cli_server, free_port):
    state = served_gc_state(cli_server, free_port, env={"GC_APP_DISABLE": "1"})
    assert not state["enabled"]
    assert state["frozen"] == 0
    assert tuple(state["thresholds"]) in INTERPRETER_DEFAULTS


def test_a_negative_threshold_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, "-m", "daphne", "--gc-threshold", "-1", "gc_apps:app"],
        capture_output=True, text=True, timeout=LIMIT,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--gc-threshold" in result.stderr and "at least 0" in result.stderr


def test_a_negative_threshold_is_refused_from_python():
    from daphne.server import Server
    from gc_apps import app

    with pytest.raises(ValueError, match="gc_threshold"):
        Server(app, gc_threshold=-5)


def test_a_server_built_in_python_leaves_its_host_process_alone():
    # Server() runs inside test suites and other programs: only the daphne command, which
    # owns its process, sets the collector up by default.
    from daphne._config import ServerConfig

    assert ServerConfig().gc_threshold == 0


TUNE_TWICE = """
import gc
from daphne._gc import tune_for_serving
first = tune_for_serving(12000)
garbage = []
garbage.append(garbage)  # a cycle made after the first call
del garbage
second = tune_for_serving(12000)
print(first.raised, second.raised, first.frozen == second.frozen, gc.collect() >= 1)
"""


def test_tuning_twice_freezes_once_and_later_cycles_stay_collectable():
    out = subprocess.run(
        [sys.executable, "-c", TUNE_TWICE], capture_output=True, text=True, timeout=LIMIT
    )
    assert out.returncode == 0, out.stderr
    # The second call finds the threshold already raised (no longer a default) and the
    # process already frozen; the cycle made in between is still collected.
    assert out.stdout.split() == ["True", "False", "True", "True"]


def test_start_up_garbage_is_collected_not_frozen():
    script = (
        "import gc, weakref\n"
        "from daphne._gc import tune_for_serving\n"
        "class Node: pass\n"
        "node = Node(); node.self = node; ref = weakref.ref(node); del node\n"
        "tune_for_serving(10000)\n"
        "print(ref() is None)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=LIMIT
    )
    assert out.stdout.strip() == "True", out.stderr


def test_the_function_refuses_a_negative_threshold():
    from daphne._gc import tune_for_serving

    with pytest.raises(ValueError, match="at least 0"):
        tune_for_serving(-1)
    assert gc.get_freeze_count() == 0  # this test process is left as it was
