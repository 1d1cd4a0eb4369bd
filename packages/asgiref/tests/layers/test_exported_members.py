"""Pins the public surface of asgiref.layers: adding is a decision, removing a break."""

from __future__ import annotations

import asgiref.layers as layers

EXPECTED = {
    "DEFAULT_CHANNEL_PREFIX",
    "MAX_NAME_LENGTH",
    "BaseChannelLayer",
    "CapacityMatcher",
    "CapacityPattern",
    "ChannelFull",
    "ChannelLayer",
    "InMemoryChannelLayer",
    "InvalidChannelLayerError",
    "InvalidChannelName",
    "InvalidGroupName",
    "InvalidMessage",
    "JSONSerializer",
    "MessageTooLarge",
    "MsgPackSerializer",
    "Serializer",
    "SerializingChannelLayer",
    "compile_capacities",
    "get_serializer",
    "is_process_local",
    "is_valid_channel_name",
    "is_valid_group_name",
    "non_local_name",
    "process_local_name",
    "register_serializer",
    "require_valid_channel_name",
    "require_valid_channel_names",
    "require_valid_group_name",
    "split_process_local",
    "validate_message",
}


def test_all_is_pinned() -> None:
    assert set(layers.__all__) == EXPECTED


def test_every_exported_name_resolves() -> None:
    for name in layers.__all__:
        assert getattr(layers, name) is not None, name


def test_exported_objects_live_in_private_modules() -> None:
    for name in layers.__all__:
        module = getattr(getattr(layers, name), "__module__", None)
        if module is not None and module != "typing":
            assert module.startswith("asgiref.layers._"), (name, module)


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        layers.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_the_in_memory_layer_loads_lazily_and_is_listed() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, asgiref.layers as layers\n"
        "assert 'asgiref.layers._memory' not in sys.modules, 'loaded at import'\n"
        "assert 'InMemoryChannelLayer' in dir(layers)\n"
        "layers.InMemoryChannelLayer\n"
        "assert 'asgiref.layers._memory' in sys.modules\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
