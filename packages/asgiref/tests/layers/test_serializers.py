"""Serializers: round trips, clear errors, the registry."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from asgiref.layers import (
    InvalidChannelLayerError,
    InvalidMessage,
    JSONSerializer,
    MsgPackSerializer,
    Serializer,
    get_serializer,
    register_serializer,
)
from hypothesis import given
from hypothesis import strategies as st

MESSAGE: dict[str, Any] = {
    "type": "x",
    "text": "héllo ✓",
    "bytes": b"\x00\xff",
    "n": -3,
    "f": 2.5,
    "t": True,
    "none": None,
    "list": [1, [b"x", {"k": "v"}]],
}

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.binary(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("name", ["msgpack", "json"])
def test_round_trip(name: str) -> None:
    serializer = get_serializer(name)
    assert serializer.deserialize(serializer.serialize(MESSAGE)) == MESSAGE


@pytest.mark.parametrize("name", ["msgpack", "json"])
@given(message=st.dictionaries(st.text(max_size=8), values, max_size=5))
def test_round_trip_property(name: str, message: dict[str, Any]) -> None:
    serializer = get_serializer(name)
    assert serializer.deserialize(serializer.serialize(message)) == message


@pytest.mark.parametrize("serializer", [MsgPackSerializer(), JSONSerializer()])
def test_unserializable_value_is_named(serializer: Serializer) -> None:
    with pytest.raises(InvalidMessage, match=r"message\['when'\] is a datetime"):
        serializer.serialize({"when": datetime.datetime(2020, 1, 1)})


def test_default_is_msgpack_and_instances_pass_through() -> None:
    assert isinstance(get_serializer(), MsgPackSerializer)
    instance = JSONSerializer()
    assert get_serializer(instance) is instance


def test_dotted_path_and_registry() -> None:
    assert isinstance(get_serializer("asgiref.layers.JSONSerializer"), JSONSerializer)
    register_serializer("test-json-alias", JSONSerializer)
    assert isinstance(get_serializer("test-json-alias"), JSONSerializer)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "Unknown serializer 'nope'; registered: "),
        ("no.such.module.Thing", "Cannot import serializer 'no.such.module.Thing'"),
        ("asgiref.layers.ChannelFull", "does not provide serialize/deserialize"),
        (42, "must be a name, a dotted path or an object"),
    ],
)
def test_bad_serializer_specs(spec: Any, message: str) -> None:
    with pytest.raises(InvalidChannelLayerError, match=message):
        get_serializer(spec)


def test_register_needs_a_name() -> None:
    with pytest.raises(InvalidChannelLayerError, match="non-empty str"):
        register_serializer("", JSONSerializer)
