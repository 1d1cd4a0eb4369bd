"""Message validation names the offending key path."""

from __future__ import annotations

import datetime

import pytest
from asgiref.layers import InvalidMessage, validate_message


def test_valid_message_is_returned() -> None:
    message = {"type": "x", "n": [1, (2, b"3")], "d": {"k": None}, "f": 1.5, "b": True}
    assert validate_message(message) is message


@pytest.mark.parametrize("bad", [None, "text", [("type", "x")], 3])
def test_non_dict_is_rejected(bad: object) -> None:
    with pytest.raises(InvalidMessage, match=f"must be a dict, got {type(bad).__name__}"):
        validate_message(bad)


def test_non_str_key_is_rejected_even_without_value_checks() -> None:
    with pytest.raises(InvalidMessage, match="keys must be str, got int key 1"):
        validate_message({1: "x"}, check_values=False)


def test_reserved_key_prefix_is_rejected() -> None:
    with pytest.raises(InvalidMessage, match="reserved"):
        validate_message({"__asgi_channel__": "x"})


def test_unserializable_value_names_its_path() -> None:
    message = {"a": [1, {"when": datetime.date(2020, 1, 1)}]}
    with pytest.raises(InvalidMessage, match=r"message\['a'\]\[1\]\['when'\] is a date"):
        validate_message(message)
    assert validate_message(message, check_values=False) is message


def test_nested_non_str_key_is_rejected() -> None:
    with pytest.raises(InvalidMessage, match=r"message\['a'\] has a int key 5"):
        validate_message({"a": {5: "x"}})
