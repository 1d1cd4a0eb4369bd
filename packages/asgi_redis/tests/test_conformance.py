"""The shared channel-layer conformance suite, for both layers in all four topologies."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

import pytest
from asgi_conformance import LayerConformance

CORE = frozenset(
    {
        "groups", "flush", "expiry", "group_expiry", "capacity", "channel_capacity",
        "process_local", "cross_process", "cancel_safe", "large_messages",
    }
)  # fmt: skip
# Pub/sub keeps no queue for local channels and groups: no capacity, no expiry.
PUBSUB = frozenset(
    {"groups", "flush", "process_local", "cross_process", "cancel_safe", "large_messages"}
)


class _OnTopology(LayerConformance):
    __test__ = False
    topology_name: ClassVar[str] = "single"
    cancel_iterations = 400

    @pytest.fixture(autouse=True)
    def _configure(self, request: pytest.FixtureRequest, redis_url: str) -> None:
        name = self.topology_name
        hosts: list[Any]
        if name == "single":
            hosts = [redis_url]
        elif name == "sharded":
            hosts = [redis_url, request.getfixturevalue("second_shard").url]
        elif name == "sentinel":
            hosts = [request.getfixturevalue("sentinel_setup")]
        else:
            nodes = request.getfixturevalue("cluster_setup")
            hosts = [{"cluster": [["127.0.0.1", node.port] for node in nodes]}]
        # An instance attribute: the peer process gets it as JSON.
        self.layer_kwargs = {"hosts": hosts, "prefix": f"conf{secrets.token_hex(4)}"}  # type: ignore[misc]


class TestCoreSingle(_OnTopology):
    layer_path = "asgi_redis.core.RedisChannelLayer"
    capabilities = CORE


class TestCoreSharded(TestCoreSingle):
    topology_name = "sharded"


class TestCoreSentinel(TestCoreSingle):
    topology_name = "sentinel"


class TestCoreCluster(TestCoreSingle):
    topology_name = "cluster"


class TestPubSubSingle(_OnTopology):
    layer_path = "asgi_redis.pubsub.RedisPubSubChannelLayer"
    capabilities = PUBSUB


class TestPubSubSharded(TestPubSubSingle):
    topology_name = "sharded"


class TestPubSubSentinel(TestPubSubSingle):
    topology_name = "sentinel"


class TestPubSubCluster(TestPubSubSingle):
    topology_name = "cluster"
