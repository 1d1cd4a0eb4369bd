"""Configuration parsing and consistent hashing (no server needed)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from asgi_redis._hosts import parse_hosts
from asgi_redis._ring import HashRing
from asgi_redis.core import RedisChannelLayer
from asgiref.layers import InvalidChannelLayerError, non_local_name


def test_host_forms() -> None:
    specs = parse_hosts(
        [
            "redis://127.0.0.1:6379/1",
            ("10.0.0.2", 6380),
            {"address": ("10.0.0.3", 6379), "password": "x", "db": 2},
            {"address": "rediss://example:6390"},
            {"sentinels": [("s1", 26379)], "master_name": "main", "sentinel_kwargs": {"a": 1}},
        ]
    )
    assert [s.kind for s in specs] == ["url", "address", "address", "url", "sentinel"]
    assert specs[2].options == {"password": "x", "db": 2}
    assert specs[4].master_name == "main" and specs[4].sentinels == (("s1", 26379),)
    assert parse_hosts(None)[0].address == ("localhost", 6379)


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ("redis://x", "must be a list"),
        ([], "at least one"),
        ([("host",)], r"\(host, port\) pair"),
        ([{"nothing": 1}], "must contain 'address'"),
        ([{"sentinels": [("a", 1)]}], "master_name"),
        ([{"address": "redis://a", "decode_responses": True}], "decode_responses"),
        (["redis://a", "redis://a"], "same server twice"),
        ([{"cluster": [("a", 1)]}, "redis://b"], "only entry"),
    ],
)
def test_bad_hosts_are_explained(hosts: Any, message: str) -> None:
    with pytest.raises(InvalidChannelLayerError, match=message):
        parse_hosts(hosts)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"expiry": 0}, "expiry"),
        ({"group_expiry": -1}, "group_expiry"),
        ({"prefix": "a{b}"}, "prefix"),
        ({"capacity": 0}, "capacity"),
        ({"channel_capacity": {"x": 0}}, "channel_capacity"),
        ({"cluster_buckets": 0}, "cluster_buckets"),
    ],
)
def test_bad_layer_options_are_explained(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidChannelLayerError, match=message):
        RedisChannelLayer(**options)


def test_ring_moves_only_the_removed_shards_names() -> None:
    names = [f"specific.{i:05d}!" for i in range(3000)]
    three = HashRing(["a", "b", "c"])
    two = HashRing(["a", "c"])
    before = {name: ["a", "b", "c"][three.index_for(name)] for name in names}
    after = {name: ["a", "c"][two.index_for(name)] for name in names}
    moved = [n for n in names if before[n] != after[n]]
    assert all(before[n] == "b" for n in moved)
    counts = {shard: list(before.values()).count(shard) for shard in "abc"}
    assert all(600 < count < 1400 for count in counts.values()), counts


def test_local_channels_of_one_process_share_a_shard() -> None:
    layer = RedisChannelLayer(hosts=["redis://a:1", "redis://b:1", "redis://c:1"])
    channels = [f"specific.{layer.client_prefix}!{i}" for i in range(50)]
    routes = {layer._route(channel)[1:] for channel in channels}
    assert len(routes) == 1
    assert {layer._route(non_local_name(c))[1] for c in channels} == {routes.pop()[0]}


def test_cluster_keys_share_a_hash_tag_per_bucket() -> None:
    layer = RedisChannelLayer(hosts=[{"cluster": [("127.0.0.1", 7000)]}], prefix="p")
    _, index, key = layer._route("specific.abc!xyz")
    assert re.fullmatch(r"\{p\.\d+\}:c:specific\.abc!", key)
    assert key.startswith(f"{{p.{index}}}")


def test_readme_configuration_example_builds_a_layer() -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {"re": re, "SECRET_KEY": "not-a-real-secret"}
    exec(block, namespace)
    settings = namespace["CHANNEL_LAYERS"]["default"]
    assert settings["BACKEND"] == "asgi_redis.core.RedisChannelLayer"
    layer = RedisChannelLayer(**settings["CONFIG"])
    assert layer.get_capacity("http.request") == 200
    assert layer.get_capacity("websocket.send!abc") == 20
    assert layer.get_capacity("other") == 100
    assert layer._serializer.crypter is not None
