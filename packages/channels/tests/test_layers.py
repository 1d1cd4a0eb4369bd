"""channels.layers: the lazy manager, aliases, TEST_CONFIG, resets and re-exports."""

from __future__ import annotations

import asgiref.layers
import channels.exceptions
import channels.layers
import pytest
from channels.layers import channel_layers, get_channel_layer
from django.test import override_settings

MEMORY = "channels.layers.InMemoryChannelLayer"
# InMemoryChannelLayer ignores unknown keywords (as upstream); the base class does not.
STRICT = "asgiref.layers.BaseChannelLayer"


def test_reexports_are_asgirefs_objects() -> None:
    assert channels.layers.InMemoryChannelLayer is asgiref.layers.InMemoryChannelLayer
    assert channels.layers.BaseChannelLayer is asgiref.layers.BaseChannelLayer
    assert channels.exceptions.ChannelFull is asgiref.layers.ChannelFull
    assert channels.exceptions.InvalidChannelLayerError is asgiref.layers.InvalidChannelLayerError
    with pytest.raises(AttributeError, match="RedisChannelLayer"):
        channels.layers.RedisChannelLayer  # noqa: B018


def test_default_layer_is_built_once() -> None:
    layer = get_channel_layer()
    assert isinstance(layer, asgiref.layers.InMemoryChannelLayer)
    assert get_channel_layer() is layer


def test_missing_alias_gives_none() -> None:
    assert get_channel_layer("nope") is None
    with override_settings(CHANNEL_LAYERS={}):
        assert get_channel_layer() is None


def test_several_aliases_and_config() -> None:
    config = {
        "default": {"BACKEND": MEMORY},
        "small": {"BACKEND": MEMORY, "CONFIG": {"capacity": 3, "expiry": 5}},
    }
    with override_settings(CHANNEL_LAYERS=config):
        small = get_channel_layer("small")
        assert small is not None and small is not get_channel_layer()
        assert small.capacity == 3 and small.expiry == 5


def test_override_settings_resets_the_cache() -> None:
    before = get_channel_layer()
    with override_settings(CHANNEL_LAYERS={"default": {"BACKEND": MEMORY}}):
        inside = get_channel_layer()
        assert inside is not before
    assert get_channel_layer() is not inside


def test_test_config() -> None:
    config = {"default": {"BACKEND": MEMORY, "TEST_CONFIG": {"capacity": 7}}}
    with override_settings(CHANNEL_LAYERS=config):
        assert channel_layers.make_test_backend("default").capacity == 7
    with (
        override_settings(CHANNEL_LAYERS={"default": {"BACKEND": MEMORY}}),
        pytest.raises(asgiref.layers.InvalidChannelLayerError, match="No TEST_CONFIG"),
    ):
        channel_layers.make_test_backend("default")


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"BACKEND": "no.such.Layer"}, r"Cannot import BACKEND 'no\.such\.Layer'"),
        ({"BACKEND": 42}, "must be a dotted path string, got 42"),
        ({"BACKEND": STRICT, "CONFIG": {"colour": "red"}}, r"rejected its CONFIG \['colour'\]"),
        ({"BACKEND": MEMORY, "CONFIG": ["capacity"]}, "must be a dict of keyword arguments"),
        ({"BACKEND": MEMORY, "OPTIONS": {}}, r"unknown keys \['OPTIONS'\]"),
    ],
)
def test_bad_configuration_is_a_clear_error(config: object, error: str) -> None:
    with (
        override_settings(CHANNEL_LAYERS={"default": config}),
        pytest.raises(asgiref.layers.InvalidChannelLayerError, match=error),
    ):
        get_channel_layer()


def test_set_installs_a_layer() -> None:
    replacement = asgiref.layers.InMemoryChannelLayer()
    previous = channel_layers.set("custom", replacement)
    assert previous is None
    assert get_channel_layer("custom") is replacement
