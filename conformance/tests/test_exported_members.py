"""Pins the public surface of asgi_conformance."""

from __future__ import annotations

import asgi_conformance
import pytest
from asgi_conformance import CAPABILITIES, Harness, LayerConformance


def test_all_is_pinned() -> None:
    assert set(asgi_conformance.__all__) == {
        "ALL_CAPABILITIES",
        "BrokerRestartTests",
        "CAPABILITIES",
        "CancellationTests",
        "ChannelTests",
        "CrossProcessTests",
        "GroupTests",
        "Harness",
        "LayerConformance",
        "LimitTests",
        "LocalChannelTests",
        "SyncUsageTests",
        "TeardownTests",
        "ValidationTests",
        "__version__",
    }
    for name in asgi_conformance.__all__:
        assert getattr(asgi_conformance, name) is not None


def test_abstract_classes_are_not_collected_but_adopters_are() -> None:
    assert LayerConformance.__test__ is False
    for mixin in LayerConformance.__mro__[1:]:
        assert mixin.__dict__.get("__test__", False) is False, mixin

    class TestAdopter(LayerConformance):
        layer_path = "asgiref.layers.InMemoryChannelLayer"

    assert TestAdopter.__test__ is True
    assert "test_send_then_receive" in dir(TestAdopter)


def test_capabilities_are_documented() -> None:
    assert set(asgi_conformance.ALL_CAPABILITIES) == set(CAPABILITIES)
    assert all(CAPABILITIES.values())


def test_unknown_capability_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown capability 'grups'"):
        Harness().require("grups")


def test_missing_capability_skips_with_the_reason() -> None:
    harness = Harness()
    with pytest.raises(pytest.skip.Exception, match="does not claim the 'groups' capability"):
        harness.require("groups")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "layer_path must be a dotted path"),
        ("asgiref.layers.NoSuchLayer", "module 'asgiref.layers' has no 'NoSuchLayer'"),
    ],
)
def test_bad_layer_path_is_explained(path: str, message: str) -> None:
    class Adopter(LayerConformance):
        layer_path = path

    with pytest.raises(TypeError, match=message):
        Adopter().make_layer()


def test_make_layer_merges_overrides() -> None:
    class Adopter(LayerConformance):
        layer_path = "asgiref.layers.InMemoryChannelLayer"
        layer_kwargs = {"capacity": 5, "expiry": 30}

    layer = Adopter().make_layer(capacity=7)
    assert (layer.capacity, layer.expiry) == (7, 30)


def test_peer_rejects_kwargs_that_are_not_an_object() -> None:
    import subprocess
    import sys

    argv = ["--layer-path", "a.B", "--inbox", "x", "--layer-kwargs", "[1, 2]"]
    completed = subprocess.run(
        [sys.executable, "-m", "asgi_conformance.peer", *argv],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "--layer-kwargs must be a JSON object, got '[1, 2]'" in completed.stderr


def test_a_peer_that_cannot_start_fails_with_its_traceback() -> None:
    import asyncio

    from asgi_conformance._cross_process import _peer

    async def start() -> None:
        async with _peer("no_such_module_here.Layer", {}, "inbox", None):
            raise AssertionError("the peer should not have started")

    with pytest.raises(pytest.fail.Exception) as info:
        asyncio.run(start())
    assert "the peer process did not start (no_such_module_here.Layer)" in str(info.value)
    assert "ModuleNotFoundError" in str(info.value)


def test_layer_kwargs_must_survive_json_for_the_peer() -> None:
    import asyncio
    import re

    from asgi_conformance._cross_process import _peer

    async def start() -> None:
        async with _peer("asgiref.layers.InMemoryChannelLayer", {"p": re.compile("x")}, "i", None):
            pass

    with pytest.raises(TypeError, match="layer_kwargs must be JSON-serializable"):
        asyncio.run(start())


def test_claiming_restartable_without_the_hook_is_explained() -> None:
    class Adopter(LayerConformance):
        layer_path = "asgiref.layers.InMemoryChannelLayer"
        capabilities = frozenset({"restartable"})

    with pytest.raises(NotImplementedError, match="must override restart_broker"):
        Adopter().restart_broker()
