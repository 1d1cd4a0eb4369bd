"""System checks for CHANNEL_LAYERS and ASGI_APPLICATION."""

from __future__ import annotations

from typing import Any

import pytest
from channels.checks import check_asgi_application, check_channel_layers
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

MEMORY = "channels.layers.InMemoryChannelLayer"


def _ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_valid_settings_pass() -> None:
    assert check_channel_layers() == []
    assert check_asgi_application() == []


@pytest.mark.parametrize(
    ("layers", "ids", "text"),
    [
        ("not a dict", ["channels.E001"], "must be a dict of alias"),
        ({"default": "x"}, ["channels.E001"], "must be a dict with a 'BACKEND' key"),
        ({"default": {"BACKEND": MEMORY, "CONFG": {}}}, ["channels.E002"], "['CONFG']"),
        ({"default": {"BACKEND": "nowhere.Layer"}}, ["channels.E003"], "cannot be imported"),
        ({"default": {}}, ["channels.E003"], "got None"),
        ({"default": {"BACKEND": MEMORY, "CONFIG": []}}, ["channels.E004"], "got list"),
        (
            {"default": {"BACKEND": "asgiref.layers.BaseChannelLayer", "CONFIG": {"hosts": []}}},
            ["channels.E005"],
            "'hosts'",
        ),
        (
            {"default": {"BACKEND": "asgiref.layers.BaseChannelLayer", "TEST_CONFIG": {"x": 1}}},
            ["channels.E005"],
            "TEST_CONFIG",
        ),
    ],
)
def test_misconfigured_channel_layers(layers: Any, ids: list[str], text: str) -> None:
    with override_settings(CHANNEL_LAYERS=layers):
        messages = check_channel_layers()
    assert _ids(messages) == ids
    assert text in messages[0].msg


@pytest.mark.parametrize(
    ("value", "error_id"),
    [
        (42, "channels.E010"),
        ("", "channels.E010"),
        ("nowhere.application", "channels.E011"),
        ("channels_tests_app.BACKGROUND_CHANNEL", "channels.E012"),
    ],
)
def test_misconfigured_asgi_application(value: Any, error_id: str) -> None:
    with override_settings(ASGI_APPLICATION=value):
        assert _ids(check_asgi_application()) == [error_id]


def test_checks_are_registered_with_django() -> None:
    with (
        override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "nowhere.Layer"}}),
        pytest.raises(SystemCheckError, match=r"channels\.E003"),
    ):
        call_command("check")
