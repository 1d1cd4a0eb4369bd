"""Where the Redis layers keep things: the one module that knows the key layout.

Keys start with a *base*: the layer's ``prefix``, or in a Redis Cluster the prefix
and bucket as a hash tag (``{prefix.N}``), so every key one Lua script touches is in
one slot. Then a kind and a name:

* ``B:c:<channel>`` - the list of items of a normal channel;
* ``B:c:<owner>!`` - the inbox list of one layer instance: every process-local
  channel ``<owner>!<id>`` it made routes there (``non_local_name``), so one blocking
  pop serves them all and a group message for many of them is stored once;
* ``B:group:<group>`` / ``B:groupcap:<group>`` - the members of a group that route to
  this shard (score = time added) and their capacities (channels_redis' ``group`` key);
* ``P:p:<owner>!`` / ``P:pg:<group>`` - the pub/sub layer's topics (``P`` is the plain
  prefix: PUBLISH reaches every node of a cluster) for an instance's inbox and a group.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CHANNEL",
    "GROUP",
    "GROUP_CAPACITY",
    "bucket_base",
    "channel_key",
    "flush_pattern",
    "group_keys",
    "group_of_topic",
    "group_topic",
    "inbox_topic",
    "key",
    "shard_base",
]

CHANNEL: Final = "c"
GROUP: Final = "group"
GROUP_CAPACITY: Final = "groupcap"
_INBOX_TOPIC: Final = "p"
_GROUP_TOPIC: Final = "pg"


def key(base: str, kind: str, name: str) -> str:
    return f"{base}:{kind}:{name}"


def bucket_base(prefix: str, bucket: int | str) -> str:
    """The base of a cluster bucket's keys: a hash tag, so they share one slot."""
    return f"{{{prefix}.{bucket}}}"


def shard_base(prefix: str, index: int, cluster: bool) -> str:
    return bucket_base(prefix, index) if cluster else prefix


def channel_key(base: str, routing: str) -> str:
    """The list that holds *routing*'s items (a normal channel, or an inbox)."""
    return key(base, CHANNEL, routing)


def group_keys(base: str, group: str) -> tuple[str, str]:
    """A group's member set and its members' capacities, on one shard."""
    return key(base, GROUP, group), key(base, GROUP_CAPACITY, group)


def flush_pattern(prefix: str, cluster: bool) -> str:
    """A SCAN pattern matching every key of *prefix*, in every bucket."""
    return f"{bucket_base(prefix, '*')}:*" if cluster else f"{prefix}:*"


def inbox_topic(prefix: str, routing: str) -> str:
    return key(prefix, _INBOX_TOPIC, routing)


def group_topic(prefix: str, group: str) -> str:
    return key(prefix, _GROUP_TOPIC, group)


def group_of_topic(prefix: str, topic: str) -> str | None:
    """The group whose topic *topic* is, or ``None`` for another topic."""
    head = group_topic(prefix, "")
    return topic[len(head) :] if topic.startswith(head) else None
