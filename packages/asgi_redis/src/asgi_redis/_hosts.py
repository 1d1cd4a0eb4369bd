"""Parsing the ``hosts`` setting into plain host descriptions (no IO).

Accepted forms, as in channels_redis 4, plus Redis Cluster:

* ``"redis://host:port/db"`` (any URL redis-py understands, ``rediss://`` and ``unix://`` too);
* ``("host", port)`` tuples or lists;
* ``{"address": <url or (host, port)>, **pool_options}``;
* ``{"sentinels": [(host, port), ...], "master_name": "...", "sentinel_kwargs": {...},
  **master_options}``;
* ``{"cluster": <url or [(host, port), ...]>, **cluster_options}`` (must be the only host).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from asgiref.layers import InvalidChannelLayerError

__all__ = ["HostSpec", "parse_hosts"]

Kind = Literal["url", "address", "sentinel", "cluster"]

# Responses must stay bytes: payloads are binary and the envelope is parsed as bytes.
_FORBIDDEN_OPTIONS = frozenset({"decode_responses"})


@dataclass(frozen=True)
class HostSpec:
    """One configured Redis endpoint (a shard)."""

    kind: Kind
    url: str | None = None
    address: tuple[str, int] | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    master_name: str | None = None
    sentinel_kwargs: Mapping[str, Any] = field(default_factory=dict)
    cluster_nodes: tuple[tuple[str, int], ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """A stable name for consistent hashing: independent of list position."""
        if self.kind == "url":
            return str(self.url)
        if self.kind == "address":
            assert self.address is not None
            db = self.options.get("db", 0)
            return f"{self.address[0]}:{self.address[1]}/{db}"
        if self.kind == "sentinel":
            return f"sentinel:{self.master_name}/{self.options.get('db', 0)}"
        return "cluster:" + ",".join(f"{h}:{p}" for h, p in self.cluster_nodes)


def _address(value: object, where: str) -> tuple[str, int]:
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    ):
        return (value[0], value[1])
    raise InvalidChannelLayerError(
        f"{where} must be a (host, port) pair such as ('127.0.0.1', 6379), got {value!r}"
    )


def _options(entry: Mapping[str, Any], used: set[str], where: str) -> dict[str, Any]:
    options = {key: value for key, value in entry.items() if key not in used}
    for key in options:
        if not isinstance(key, str):
            raise InvalidChannelLayerError(f"{where} has a non-str option name {key!r}")
        if key in _FORBIDDEN_OPTIONS:
            raise InvalidChannelLayerError(
                f"{where} sets {key!r}, which the layer does not allow: "
                "it needs raw bytes responses"
            )
    return options


def _parse_mapping(entry: Mapping[str, Any], where: str) -> HostSpec:
    if "sentinels" in entry:
        sentinels = entry["sentinels"]
        if not isinstance(sentinels, (list, tuple)) or not sentinels:
            raise InvalidChannelLayerError(
                f"{where}['sentinels'] must be a non-empty list of (host, port), got {sentinels!r}"
            )
        master = entry.get("master_name")
        if not isinstance(master, str) or not master:
            raise InvalidChannelLayerError(
                f"{where} has 'sentinels' but 'master_name' is {master!r}; expected a str"
            )
        sentinel_kwargs = entry.get("sentinel_kwargs") or {}
        if not isinstance(sentinel_kwargs, Mapping):
            raise InvalidChannelLayerError(
                f"{where}['sentinel_kwargs'] must be a dict, got {sentinel_kwargs!r}"
            )
        used = {"sentinels", "master_name", "sentinel_kwargs"}
        return HostSpec(
            kind="sentinel",
            sentinels=tuple(_address(s, f"{where}['sentinels'] item") for s in sentinels),
            master_name=master,
            sentinel_kwargs=dict(sentinel_kwargs),
            options=_options(entry, used, where),
        )
    if "cluster" in entry:
        nodes = entry["cluster"]
        options = _options(entry, {"cluster"}, where)
        if isinstance(nodes, str):
            return HostSpec(kind="cluster", url=nodes, options=options)
        if not isinstance(nodes, (list, tuple)) or not nodes:
            raise InvalidChannelLayerError(
                f"{where}['cluster'] must be a URL or a list of (host, port), got {nodes!r}"
            )
        return HostSpec(
            kind="cluster",
            cluster_nodes=tuple(_address(n, f"{where}['cluster'] item") for n in nodes),
            options=options,
        )
    if "address" in entry:
        address = entry["address"]
        options = _options(entry, {"address"}, where)
        if isinstance(address, str):
            return HostSpec(kind="url", url=address, options=options)
        return HostSpec(
            kind="address", address=_address(address, f"{where}['address']"), options=options
        )
    raise InvalidChannelLayerError(
        f"{where} must contain 'address', 'sentinels' or 'cluster'; got keys {sorted(entry)}"
    )


def parse_hosts(hosts: object) -> list[HostSpec]:
    """Validate ``hosts`` and return one :class:`HostSpec` per shard."""
    if hosts is None:
        return [HostSpec(kind="address", address=("localhost", 6379))]
    if isinstance(hosts, (str, Mapping)) or not isinstance(hosts, Sequence):
        raise InvalidChannelLayerError(
            f"hosts must be a list of URLs, (host, port) pairs or dicts, got {hosts!r}"
        )
    if not hosts:
        raise InvalidChannelLayerError("hosts must list at least one Redis server, got []")
    specs: list[HostSpec] = []
    for index, entry in enumerate(hosts):
        where = f"hosts[{index}]"
        if isinstance(entry, str):
            specs.append(HostSpec(kind="url", url=entry))
        elif isinstance(entry, Mapping):
            specs.append(_parse_mapping(entry, where))
        else:
            specs.append(HostSpec(kind="address", address=_address(entry, where)))
    if any(spec.kind == "cluster" for spec in specs) and len(specs) > 1:
        raise InvalidChannelLayerError(
            "A Redis Cluster host must be the only entry in hosts: the cluster shards by itself"
        )
    identities = [spec.identity for spec in specs]
    if len(set(identities)) != len(identities):
        raise InvalidChannelLayerError(f"hosts lists the same server twice: {identities}")
    return specs
