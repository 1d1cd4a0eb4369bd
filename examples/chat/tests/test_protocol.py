"""The chat wire protocol: parsing client frames and naming groups."""

from __future__ import annotations

import json

import pytest
from chat.protocol import (
    MAX_MESSAGE_LENGTH,
    ChatInputError,
    display_name,
    error_frame,
    group_for_room,
    message_frame,
    moderation_frame,
    new_message_id,
    parse_client_frame,
    welcome_frame,
)
from hypothesis import given
from hypothesis import strategies as st


def test_message_is_extracted_and_trimmed() -> None:
    assert parse_client_frame('{"message": "  hi there "}', None) == "hi there"


def test_unicode_and_markup_pass_through_unchanged() -> None:
    text = "<b>héllo</b> 🎉"
    assert parse_client_frame(json.dumps({"message": text}), None) == text


@pytest.mark.parametrize(
    ("text_data", "bytes_data", "expected"),
    [
        (None, b"\x00\x01", "got a 2-byte binary frame"),
        ("not json", None, "expected JSON like"),
        ("[1, 2]", None, "expected a JSON object with a \"message\" key; got '[1, 2]'"),
        ('{"msg": "x"}', None, 'with a "message" key'),
        ('{"message": 5}', None, '"message" must be a string; got int'),
        ('{"message": null}', None, "got NoneType"),
        ('{"message": "   "}', None, "must not be empty"),
    ],
)
def test_bad_frames_are_rejected_with_what_arrived(
    text_data: str | None, bytes_data: bytes | None, expected: str
) -> None:
    with pytest.raises(ChatInputError) as info:
        parse_client_frame(text_data, bytes_data)
    assert expected in str(info.value)


def test_length_limit_is_inclusive() -> None:
    assert parse_client_frame(json.dumps({"message": "x" * MAX_MESSAGE_LENGTH}), None)
    with pytest.raises(ChatInputError, match=f"at most {MAX_MESSAGE_LENGTH} characters; got"):
        parse_client_frame(json.dumps({"message": "x" * (MAX_MESSAGE_LENGTH + 1)}), None)


def test_long_garbage_is_previewed_not_echoed_whole() -> None:
    with pytest.raises(ChatInputError) as info:
        parse_client_frame("z" * 10_000, None)
    assert len(str(info.value)) < 200


def test_group_names_are_valid_layer_group_names() -> None:
    from asgiref.layers import require_valid_group_name

    for room in ("lobby", "a", "x" * 64, "Room_1-b"):
        require_valid_group_name(group_for_room(room))


@pytest.mark.parametrize("room", ["", "x" * 65, "has space", "dots.no", "ünï"])
def test_bad_room_names_are_rejected(room: str) -> None:
    with pytest.raises(ChatInputError, match="room name must match"):
        group_for_room(room)


def test_display_name() -> None:
    class Anonymous:
        is_authenticated = False

    class Member:
        is_authenticated = True

        def get_username(self) -> str:
            return "alice"

    assert display_name(None) == "anonymous"
    assert display_name(Anonymous()) == "anonymous"
    assert display_name(Member()) == "alice"


def test_frames_are_json_with_a_type() -> None:
    assert json.loads(welcome_frame("r", "u")) == {"type": "welcome", "room": "r", "user": "u"}
    assert json.loads(message_frame("id1", "r", "u", "m")) == {
        "type": "message",
        "id": "id1",
        "room": "r",
        "user": "u",
        "message": "m",
    }
    assert json.loads(moderation_frame("id1", "flagged", "shouting", "host:1:w")) == {
        "type": "moderation",
        "id": "id1",
        "verdict": "flagged",
        "reason": "shouting",
        "worker": "host:1:w",
    }
    assert json.loads(error_frame("bad")) == {"type": "error", "error": "bad"}


def test_message_ids_differ() -> None:
    ids = {new_message_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) == 16 and i.isalnum() for i in ids)


@given(text=st.text(max_size=300))
def test_any_text_frame_is_either_a_message_or_a_clear_error(text: str) -> None:
    try:
        message = parse_client_frame(text, None)
    except ChatInputError as exc:
        assert str(exc)
    else:
        assert message and message == message.strip() and len(message) <= MAX_MESSAGE_LENGTH


@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_any_json_value_is_either_a_message_or_a_clear_error(payload: object) -> None:
    text = json.dumps({"message": payload})
    try:
        assert parse_client_frame(text, None) == str(payload).strip()
    except ChatInputError as exc:
        assert '"message"' in str(exc)
