"""CHAT_TASKS and the layer decide whether the background check runs, and say why."""

from __future__ import annotations

import pytest
from chat.moderation import FLAGGED, OK, Review, review
from chatsite.tasking import MODERATION_QUEUE, decide

DJANGO_6 = (6, 1)
DJANGO_5 = (5, 2)


@pytest.mark.parametrize("layer", ["redis", "rabbitmq", "ipc"])
def test_auto_is_on_with_django_6_and_a_layer_that_crosses_processes(layer: str) -> None:
    decision = decide({"CHAT_CHANNEL_LAYER": layer}, django_version=DJANGO_6)
    assert decision.on
    assert decision.tasks == {
        "default": {
            "BACKEND": "channels.tasks.ChannelLayerBackend",
            "QUEUES": [MODERATION_QUEUE],
            "OPTIONS": {"CHANNEL_LAYER": "default", "RESULT_DATABASE": None},
        }
    }
    assert "runworker --tasks moderation" in decision.why
    assert decide({"CHAT_CHANNEL_LAYER": layer, "CHAT_TASKS": " ON "}, django_version=DJANGO_6).on


def test_auto_is_off_before_django_6_and_says_what_it_needs() -> None:
    decision = decide({"CHAT_CHANNEL_LAYER": "redis"}, django_version=DJANGO_5)
    assert not decision.on and decision.tasks is None
    assert "needs django.tasks (Django 6.0+" in decision.why
    assert "Django 5.2 is installed" in decision.why


def test_auto_is_off_on_the_in_memory_layer_which_no_worker_can_reach() -> None:
    decision = decide({}, django_version=DJANGO_6)
    assert not decision.on
    assert "in-memory channel layer cannot reach a worker process" in decision.why


def test_off_wins_and_on_insists() -> None:
    assert not decide(
        {"CHAT_CHANNEL_LAYER": "redis", "CHAT_TASKS": "off"}, django_version=DJANGO_6
    ).on
    with pytest.raises(ValueError, match=r"CHAT_TASKS=on, but it needs django\.tasks"):
        decide({"CHAT_CHANNEL_LAYER": "redis", "CHAT_TASKS": "on"}, django_version=DJANGO_5)
    with pytest.raises(ValueError, match="CHAT_TASKS=on, but the in-memory channel layer"):
        decide({"CHAT_TASKS": "on"}, django_version=DJANGO_6)


def test_unknown_values_fail_naming_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="CHAT_TASKS must be one of auto, on, off; got 'yes'"):
        decide({"CHAT_TASKS": "yes"}, django_version=DJANGO_6)
    with pytest.raises(ValueError, match="CHAT_CHANNEL_LAYER must be one of"):
        decide({"CHAT_CHANNEL_LAYER": "reddis"}, django_version=DJANGO_6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello there", Review(OK)),
        ("OK", Review(OK)),  # too short to be shouting
        ("I said NO, twice", Review(OK)),
        ("STOP SHOUTING AT ME", Review(FLAGGED, "shouting (all capitals)")),
        ("see https://a.example and www.b.example", Review(OK)),
        ("http://a.example http://b.example www.c.example", Review(FLAGGED, "3 links (at most 2)")),
        ("nooooooo", Review(FLAGGED, "'o' repeated 7 times")),
        ("!!!!!", Review(OK)),
    ],
)
def test_review_flags_links_shouting_and_repeats(text: str, expected: Review) -> None:
    assert review(text) == expected
