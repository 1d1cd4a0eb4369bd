"""The key layout, written down once (``_keys``): what other tools and old data rely on."""

from __future__ import annotations

from asgi_redis import _keys


def test_channel_and_inbox_lists() -> None:
    assert _keys.channel_key("asgi", "chat.room") == "asgi:c:chat.room"
    assert _keys.channel_key("asgi", "specific.abc!") == "asgi:c:specific.abc!"


def test_a_cluster_bucket_is_a_hash_tag() -> None:
    assert _keys.shard_base("asgi", 3, cluster=True) == "{asgi.3}"
    assert _keys.shard_base("asgi", 3, cluster=False) == "asgi"
    assert _keys.channel_key(_keys.bucket_base("asgi", 3), "x") == "{asgi.3}:c:x"


def test_group_keys_keep_channels_redis_names() -> None:
    assert _keys.group_keys("asgi", "room") == ("asgi:group:room", "asgi:groupcap:room")


def test_pubsub_topics_and_reading_a_group_back() -> None:
    assert _keys.inbox_topic("asgi", "specific.abc!") == "asgi:p:specific.abc!"
    assert _keys.group_topic("asgi", "room") == "asgi:pg:room"
    assert _keys.group_of_topic("asgi", "asgi:pg:room") == "room"
    assert _keys.group_of_topic("asgi", "asgi:p:specific.abc!") is None


def test_flush_patterns_cover_every_bucket() -> None:
    assert _keys.flush_pattern("asgi", cluster=False) == "asgi:*"
    assert _keys.flush_pattern("asgi", cluster=True) == "{asgi.*}:*"
