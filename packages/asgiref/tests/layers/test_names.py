"""The pure channel/group name rules, with Hypothesis properties."""

from __future__ import annotations

import string
from typing import Any

import pytest
from asgiref.layers import (
    MAX_NAME_LENGTH,
    InvalidChannelName,
    InvalidGroupName,
    is_process_local,
    is_valid_channel_name,
    is_valid_group_name,
    non_local_name,
    process_local_name,
    require_valid_channel_name,
    require_valid_channel_names,
    require_valid_group_name,
    split_process_local,
)
from hypothesis import given
from hypothesis import strategies as st

NAME_CHARS = string.ascii_letters + string.digits + "-_."
names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=MAX_NAME_LENGTH - 1)


@pytest.mark.parametrize("name", ["http.request", "a", "x" * 99, "websocket.send!", "a.b!c-d_e"])
def test_valid_channel_names(name: str) -> None:
    assert is_valid_channel_name(name)
    assert require_valid_channel_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "1 to 99 characters long, got 0"),
        ("x" * 100, "1 to 99 characters long, got 100"),
        ("has space", "may contain only ASCII"),
        ("ünicode", "may contain only ASCII"),
        ("a!b!c", "at most one '!'"),
        ("!leading", "may contain only ASCII"),
        (b"bytes", "must be a str, got bytes"),
        (None, "must be a str, got NoneType"),
    ],
)
def test_invalid_channel_names_say_why(name: object, reason: str) -> None:
    assert not is_valid_channel_name(name)
    with pytest.raises(InvalidChannelName, match=reason) as info:
        require_valid_channel_name(name)
    assert repr(name)[:20] in str(info.value)
    assert isinstance(info.value, TypeError)  # upstream raised TypeError


def test_receive_on_a_process_local_name_must_end_at_the_bang() -> None:
    assert is_valid_channel_name("daphne.response!", receive=True)
    assert not is_valid_channel_name("daphne.response!abc", receive=True)
    with pytest.raises(
        InvalidChannelName, match=r"^Specific channel names in receive\(\) must end at the !"
    ):
        require_valid_channel_name("daphne.response!abc", receive=True)


@pytest.mark.parametrize(
    ("check", "kind"),
    [(require_valid_channel_name, "Channel"), (require_valid_group_name, "Group")],
)
def test_name_errors_start_with_upstreams_sentence(check: Any, kind: str) -> None:
    upstream = (
        f"{kind} name must be a valid unicode string with length < 100 containing only ASCII "
        f"alphanumerics, hyphens, underscores, or periods."
    )
    for bad in ("a" * 100, "spaces not allowed"):
        with pytest.raises(TypeError) as info:
            check(bad)
        assert str(info.value).startswith(upstream)


def test_long_names_are_shortened_in_errors() -> None:
    with pytest.raises(InvalidChannelName) as info:
        require_valid_channel_name("x" * 5000)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("name", ["", "bang!", "with space", "x" * 100, 3])
def test_invalid_group_names(name: object) -> None:
    assert not is_valid_group_name(name)
    with pytest.raises(InvalidGroupName):
        require_valid_group_name(name)


def test_require_valid_channel_names_reports_the_first_bad_one() -> None:
    assert require_valid_channel_names(["a", "b"]) == ["a", "b"]
    with pytest.raises(InvalidChannelName, match="'b c'"):
        require_valid_channel_names(["a", "b c", "d e"])


def test_process_local_helpers() -> None:
    assert is_process_local("specific.abc!def")
    assert not is_process_local("http.request")
    assert non_local_name("specific.abc!def") == "specific.abc!"
    assert non_local_name("http.request") == "http.request"


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("specific.", "specific.me!x1"),
        ("specific", "specific.me!x1"),
        ("chat.room.", "chat.room.me!x1"),
        ("", "me!x1"),
    ],
)
def test_process_local_names_join_prefix_and_owner_with_one_dot(prefix: str, expected: str) -> None:
    assert process_local_name(prefix, "me", "x1") == expected


def test_process_local_names_get_a_random_local_part_by_default() -> None:
    first, second = process_local_name("specific.", "me"), process_local_name("specific.", "me")
    assert first != second
    assert split_process_local(first)[0] == "me"
    assert len(split_process_local(first)[1]) == 16


@pytest.mark.parametrize("prefix", ["bad prefix", "x" * 95, 3])
def test_a_process_local_name_that_breaks_the_rules_is_refused(prefix: Any) -> None:
    with pytest.raises(InvalidChannelName):
        process_local_name(prefix, "me")


@pytest.mark.parametrize("owner", ["", "a.b", "a!b"])
def test_an_owner_with_a_dot_or_bang_is_refused(owner: str) -> None:
    with pytest.raises(ValueError, match="owner"):
        process_local_name("specific.", owner)


def test_split_process_local_reads_owner_and_local_part() -> None:
    assert split_process_local("specific.abc!def") == ("abc", "def")
    assert split_process_local("a.b.abc!") == ("abc", "")
    assert split_process_local("abc!d.e") == ("abc", "d.e")
    with pytest.raises(ValueError, match="no '!'"):
        split_process_local("http.request")


@given(st.text(alphabet=NAME_CHARS, max_size=40), st.text(alphabet=NAME_CHARS, max_size=20))
def test_split_finds_what_process_local_name_joined(prefix: str, local: str) -> None:
    name = process_local_name(prefix, "owner1", local)
    assert split_process_local(name) == ("owner1", local)
    assert non_local_name(name).startswith(prefix)


@given(names)
def test_any_name_from_the_alphabet_is_a_valid_channel_and_group(name: str) -> None:
    assert is_valid_channel_name(name)
    assert is_valid_group_name(name)


@given(names, st.text(alphabet=NAME_CHARS, max_size=20))
def test_one_bang_makes_a_process_local_channel(prefix: str, suffix: str) -> None:
    name = f"{prefix}!{suffix}"
    if len(name) >= MAX_NAME_LENGTH:
        assert not is_valid_channel_name(name)
        return
    assert is_valid_channel_name(name)
    assert not is_valid_group_name(name)
    assert non_local_name(name) == prefix + "!"
    assert is_valid_channel_name(non_local_name(name), receive=True)


@given(st.text(max_size=120))
def test_validity_agrees_with_require(name: str) -> None:
    valid = is_valid_channel_name(name)
    try:
        require_valid_channel_name(name)
    except InvalidChannelName:
        assert not valid
    else:
        assert valid


@given(st.text(min_size=1, max_size=50).filter(lambda t: any(c not in NAME_CHARS for c in t)))
def test_a_foreign_character_makes_a_group_name_invalid(name: str) -> None:
    assert not is_valid_group_name(name)
