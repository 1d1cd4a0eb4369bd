"""The suite can fail: each deliberately broken layer is caught by the right tests.

One pytest subprocess runs the selected conformance tests against every broken
layer in ``broken_layers.py`` and, as a control, against the correct in-memory
layer; the outcomes are read from its JUnit XML report.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

IN_MEMORY_CAPABILITIES = (
    "groups flush expiry group_expiry capacity channel_capacity process_local "
    "cancel_safe large_messages"
)

TEARDOWN = "test_close_racing_send_group_send_and_receive_leaves_nothing_behind"
RESTART = "test_layer_recovers_by_itself_after_a_broker_restart"

# broken layer -> the conformance tests that must fail against it.
EXPECTED_FAILURES: dict[str, list[str]] = {
    "DropOnCancelLayer": ["test_cancelled_receives_lose_and_reorder_nothing"],
    "ReorderingLayer": [
        "test_fifo_single_sender",
        "test_fifo_per_sender_under_concurrent_senders",
    ],
    "NoCapacityLayer": [
        "test_send_raises_channel_full_at_capacity",
        "test_channel_capacity_glob_and_regex_patterns",
    ],
    "RaisingGroupSendLayer": ["test_group_send_skips_full_members_without_raising"],
    "DuplicatingLayer": [
        "test_single_reader_among_concurrent_receivers",
        "test_cancelled_receives_lose_and_reorder_nothing",
    ],
    "NeverExpiresLayer": ["test_queued_messages_expire", "test_expired_messages_free_capacity"],
    "EternalGroupsLayer": ["test_group_membership_expires"],
    "SharedReferenceLayer": ["test_sender_mutation_after_send_changes_nothing"],
    "CollidingNamesLayer": ["test_new_channel_names_are_valid_and_unique"],
    "GluedPrefixLayer": ["test_new_channel_names_have_the_process_local_format"],
    "SilentlyDroppingLayer": ["test_invalid_messages_are_rejected_and_nothing_is_lost"],
    "LossyGroupLayer": [
        "test_group_send_reaches_every_member",
        "test_group_send_to_many_members",
    ],
    "MixedUpLocalChannelsLayer": [
        "test_process_local_channels_are_demultiplexed",
        "test_concurrent_receives_on_many_process_local_channels",
    ],
    "DropUnwatchedLocalLayer": ["test_process_local_message_survives_a_cancelled_receive"],
    "TruncatingLayer": [
        "test_large_message_is_accepted",
        "test_oversized_message_is_delivered_whole_or_refused",
    ],
    "ProcessBoundLayer": [
        "test_two_layer_objects_share_channels",
        "test_cross_process_normal_channel",
        "test_cross_process_process_local_channel",
        "test_cross_process_group",
    ],
    "SharedProcessPrefixLayer": ["test_cross_process_process_local_channel"],
    "StrandingLayer": ["test_a_cancelled_waiting_receiver_does_not_strand_a_message"],
    "CloseStrandsSendLayer": [TEARDOWN],
    "CloseCancelsCallersLayer": [TEARDOWN],
    "TaskLeakingLayer": [TEARDOWN],
    "UnclosedSocketLayer": [TEARDOWN],
    "StrandedReceiveLayer": [TEARDOWN],
    "NeverReconnectsLayer": [RESTART],
    "CrashingSupervisorLayer": [RESTART],
}

#: For the lifecycle layers, which can fail in several ways: the reason each must fail for
#: (a regular expression searched in the failure message).
EXPECTED_REASONS: dict[str, str] = {
    "CloseStrandsSendLayer": r"a send racing close\(\) after \S+ \w+ did not return",
    "CloseCancelsCallersLayer": r"raised CancelledError, although the caller was not cancelled",
    "TaskLeakingLayer": r"still pending: \[<Task pending .*_beat\(\)",
    "UnclosedSocketLayer": r"ResourceWarning: unclosed <socket\.socket",
    "StrandedReceiveLayer": r"neither ended nor can ever get a message",
    "NeverReconnectsLayer": r"did not recover by itself",
    "CrashingSupervisorLayer": r"Task exception was never retrieved",
}
#: Failure messages of the generated run, by (layer, test).
MESSAGES: dict[tuple[str, str], str] = {}

CONTROL = "InMemoryChannelLayer"
#: A correct layer with a restartable broker: the control for the restart test.
RESTART_CONTROL = "BrokeredLayer"
CROSS_PROCESS = {"ProcessBoundLayer", "SharedProcessPrefixLayer"}
#: Layers on brokered_layer's in-process broker, which restart_broker() restarts.
BROKERED = {RESTART_CONTROL, "NeverReconnectsLayer", "CrashingSupervisorLayer"}


def _class_source(layer: str, module: str, workdir: Path) -> str:
    capabilities = IN_MEMORY_CAPABILITIES
    kwargs: dict[str, str] = {}
    if layer in CROSS_PROCESS:
        capabilities += " cross_process"
    if layer == "SharedProcessPrefixLayer":
        kwargs["path"] = str(workdir / "shared.sqlite3")
    restart = ""
    if layer in BROKERED:
        module, capabilities = "brokered_layer", "groups flush process_local restartable"
        kwargs["broker"] = layer
        restart = "def restart_broker(self): brokered_layer.restart(self.layer_kwargs['broker'])"
    return textwrap.dedent(
        f"""
        class Test{layer}(LayerConformance):
            layer_path = "{module}.{layer}"
            layer_kwargs = {kwargs!r}
            capabilities = frozenset("{capabilities}".split())
            expiry_seconds = 0.5
            cancel_iterations = 1000
            receive_timeout = 1.0
            close_timeout = 1.0
            restart_recovery_timeout = 2.0
            {restart}
        """
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """Run the selected tests once; map (layer, test) to passed/failed/skipped."""
    workdir = tmp_path_factory.mktemp("broken")
    source = "import brokered_layer\nfrom asgi_conformance import LayerConformance\n"
    source += _class_source(CONTROL, "asgiref.layers", workdir)
    source += _class_source(RESTART_CONTROL, "brokered_layer", workdir)
    for layer in EXPECTED_FAILURES:
        source += _class_source(layer, "broken_layers", workdir)
    (workdir / "test_generated.py").write_text(source)
    (workdir / "pytest.ini").write_text("[pytest]\n")
    node_ids = [f"test_generated.py::Test{CONTROL}::{test}" for test in _selected()]
    node_ids += [
        f"test_generated.py::Test{RESTART_CONTROL}::{test}" for test in (TEARDOWN, RESTART)
    ]
    for layer, tests in EXPECTED_FAILURES.items():
        node_ids += [f"test_generated.py::Test{layer}::{test}" for test in tests]
    report = workdir / "report.xml"
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:asyncio",
        "-q", "--durations=5", f"--junitxml={report}", *node_ids,
    ]  # fmt: skip
    env = {"PYTHONPATH": str(HERE)}
    completed = subprocess.run(
        command, cwd=workdir, env={**_base_env(), **env}, capture_output=True, text=True
    )
    if not report.exists():
        pytest.fail(f"the generated suite did not run:\n{completed.stdout}\n{completed.stderr}")
    print(completed.stdout[-3000:])
    results: dict[tuple[str, str], str] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        layer = case.attrib["classname"].rsplit(".", 1)[-1].removeprefix("Test")
        state = "passed"
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is not None:
            state = "failed"
            text = f"{failure.attrib.get('message', '')}\n{failure.text or ''}"
            MESSAGES[(layer, case.attrib["name"])] = text
        elif case.find("skipped") is not None:
            state = "skipped"
        results[(layer, case.attrib["name"])] = state
    return results


def _selected() -> list[str]:
    return sorted({test for tests in EXPECTED_FAILURES.values() for test in tests})


def _base_env() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


@pytest.mark.parametrize("layer", sorted(EXPECTED_FAILURES))
def test_broken_layer_is_caught(layer: str, outcomes: dict[tuple[str, str], str]) -> None:
    for test in EXPECTED_FAILURES[layer]:
        state = outcomes.get((layer, test))
        assert state == "failed", f"{test} should fail against {layer}, but it {state}"


@pytest.mark.parametrize("layer", sorted(EXPECTED_REASONS))
def test_lifecycle_layer_fails_for_its_own_bug(
    layer: str, outcomes: dict[tuple[str, str], str]
) -> None:
    for test in EXPECTED_FAILURES[layer]:
        message = MESSAGES.get((layer, test), "")
        assert re.search(EXPECTED_REASONS[layer], message), (
            f"{layer} failed {test} otherwise:\n{message}"
        )


def test_control_layer_passes_every_selected_test(outcomes: dict[tuple[str, str], str]) -> None:
    selected = _selected()
    control = {test: outcomes.get((CONTROL, test)) for test in selected}
    cross = {test for test in selected if "cross_process" in test or "two_layer_objects" in test}
    for test, state in control.items():
        expected = "skipped" if test in cross or test == RESTART else "passed"
        assert state == expected, f"control: {test} {state}, expected {expected}"


def test_restartable_control_layer_passes_the_lifecycle_tests(
    outcomes: dict[tuple[str, str], str],
) -> None:
    for test in (TEARDOWN, RESTART):
        state = outcomes.get((RESTART_CONTROL, test))
        assert state == "passed", f"control {RESTART_CONTROL}: {test} {state}"
