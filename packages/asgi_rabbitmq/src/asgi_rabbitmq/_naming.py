"""Which queue a channel name lives on. Pure: no IO.

Process-local channel names look like ``<prefix>.<client id>!<token>``. The
client id (the dot-separated segment right before the ``!``) names the layer
instance that owns the channel and therefore its process queue. Client ids are
generated without dots so that any prefix the caller picks keeps them
recoverable.
"""

from __future__ import annotations

import secrets

from asgiref.layers import InvalidChannelName, require_valid_channel_name

__all__ = ["client_id_of", "make_channel_name", "new_client_id"]


def new_client_id() -> str:
    """A fresh identity for one layer instance (16 hex digits: no dots, no ``!``)."""
    return secrets.token_hex(8)


def make_channel_name(prefix: str, client_id: str) -> str:
    """A new process-local channel name owned by *client_id*."""
    if not isinstance(prefix, str):
        raise InvalidChannelName(f"Channel prefix must be a str, got {type(prefix).__name__}")
    separator = "" if prefix.endswith(".") or not prefix else "."
    name = f"{prefix}{separator}{client_id}!{secrets.token_hex(8)}"
    return require_valid_channel_name(name)


def client_id_of(channel: str) -> str:
    """The client id owning process-local *channel* (the segment before ``!``).

    For names this layer did not make (``"abc!x"``) this is still a
    deterministic segment; it simply names a queue that does not exist, and
    messages to it are lost, as for any channel nobody reads.
    """
    local = channel[: channel.index("!")]
    return local.rpartition(".")[2]
