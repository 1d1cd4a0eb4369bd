"""Pure rules for channel and group names.

A name is 1-99 ASCII characters from letters, digits, ``-``, ``_`` and ``.``.
A process-local channel name contains exactly one ``!``: everything up to and
including it (the *non-local part*) names the process that owns the channel,
and the rest identifies the channel inside that process.

Layers make process-local names with :func:`process_local_name`, one rule for all:
``<prefix>.<owner>!<local>``, where ``<owner>`` (no ``.``, no ``!``) names the layer
instance and ``<local>`` the channel. The ``.`` is left out when the prefix is empty or
already ends with one, so ``new_channel()`` and ``new_channel("specific.")`` both give
``specific.<owner>!<local>``, as channels_redis' names look. :func:`split_process_local`
reads the owner and the local part back.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from ._errors import InvalidChannelName, InvalidGroupName

__all__ = [
    "DEFAULT_CHANNEL_PREFIX",
    "MAX_NAME_LENGTH",
    "UPSTREAM_INVALID_NAME",
    "is_process_local",
    "is_valid_channel_name",
    "is_valid_group_name",
    "non_local_name",
    "process_local_name",
    "require_valid_channel_name",
    "require_valid_channel_names",
    "require_valid_group_name",
    "split_process_local",
]

#: Names must be strictly shorter than this.
MAX_NAME_LENGTH: Final = 100

#: The prefix of ``new_channel()`` names when the caller gives none (Channels' default).
DEFAULT_CHANNEL_PREFIX: Final = "specific."

_CHANNEL_RE: Final = re.compile(r"[a-zA-Z0-9\-_.]+(![a-zA-Z0-9\-_.]*)?", re.ASCII)
_GROUP_RE: Final = re.compile(r"[a-zA-Z0-9\-_.]+", re.ASCII)


def is_valid_channel_name(name: object, *, receive: bool = False) -> bool:
    """Return whether *name* is a valid channel name.

    With ``receive=True`` a process-local name must end at its ``!``: that is the
    form a server receives on when it reads every channel of one process.
    """
    if not isinstance(name, str):
        return False
    return _channel_name_ok(name, receive)


# Layers validate the same few names on every send and receive; remembering
# the verdict for recent names takes the regex off the hot path.
@lru_cache(maxsize=4096)
def _channel_name_ok(name: str, receive: bool) -> bool:
    if not 0 < len(name) < MAX_NAME_LENGTH or _CHANNEL_RE.fullmatch(name) is None:
        return False
    return not (receive and "!" in name and not name.endswith("!"))


def is_valid_group_name(name: object) -> bool:
    """Return whether *name* is a valid group name (no ``!`` allowed)."""
    return (
        isinstance(name, str)
        and 0 < len(name) < MAX_NAME_LENGTH
        and _GROUP_RE.fullmatch(name) is not None
    )


def _describe(name: object) -> str:
    text = repr(name)
    return text if len(text) <= 60 else text[:57] + "..."


#: Upstream's sentence; errors start with it because tests match on it.
UPSTREAM_INVALID_NAME: Final = (
    "{} name must be a valid unicode string with length < "
    + str(MAX_NAME_LENGTH)
    + " containing only ASCII alphanumerics, hyphens, underscores, or periods."
)


def _invalid(kind: str, name: object, reason: str) -> str:
    upstream = UPSTREAM_INVALID_NAME.format(kind)
    return f"{upstream} Got {_describe(name)}: it {reason}"


def require_valid_channel_name(name: object, *, receive: bool = False) -> str:
    """Return *name* unchanged, or raise :class:`InvalidChannelName` saying why."""
    if is_valid_channel_name(name, receive=receive):
        return name  # type: ignore[return-value]
    if not isinstance(name, str):
        reason = f"must be a str, got {type(name).__name__}"
    elif not 0 < len(name) < MAX_NAME_LENGTH:
        reason = f"must be 1 to {MAX_NAME_LENGTH - 1} characters long, got {len(name)}"
    elif receive and "!" in name and _CHANNEL_RE.fullmatch(name):
        raise InvalidChannelName(
            f"Specific channel names in receive() must end at the ! (got {_describe(name)}: "
            f"a process-local prefix is received on whole)"
        )
    else:
        reason = "may contain only ASCII letters, digits, '-', '_', '.' and at most one '!'"
    raise InvalidChannelName(_invalid("Channel", name, reason))


def require_valid_group_name(name: object) -> str:
    """Return *name* unchanged, or raise :class:`InvalidGroupName` saying why."""
    if is_valid_group_name(name):
        return name  # type: ignore[return-value]
    if not isinstance(name, str):
        reason = f"must be a str, got {type(name).__name__}"
    elif not 0 < len(name) < MAX_NAME_LENGTH:
        reason = f"must be 1 to {MAX_NAME_LENGTH - 1} characters long, got {len(name)}"
    else:
        reason = "may contain only ASCII letters, digits, '-', '_' and '.'"
    raise InvalidGroupName(_invalid("Group", name, reason))


def require_valid_channel_names(names: Iterable[object], *, receive: bool = False) -> list[str]:
    """Validate several channel names at once; the first bad one raises."""
    return [require_valid_channel_name(name, receive=receive) for name in names]


def is_process_local(name: str) -> bool:
    """Return whether *name* is a process-local channel (it contains ``!``)."""
    return "!" in name


def non_local_name(name: str) -> str:
    """Return the part of *name* up to and including the ``!``.

    Names without ``!`` are returned unchanged.
    """
    index = name.find("!")
    return name if index < 0 else name[: index + 1]


def process_local_name(prefix: str, owner: str, local: str | None = None) -> str:
    """Return the process-local channel name ``<prefix>.<owner>!<local>``.

    *owner* names the layer instance that receives on the channel; it must not contain
    ``.`` or ``!`` (so that :func:`split_process_local` finds it again whatever the
    prefix). *local* defaults to 16 random hex digits. Raises
    :class:`InvalidChannelName` if *prefix* is not a str or the name breaks the rules.
    """
    if not isinstance(prefix, str):
        raise InvalidChannelName(f"Channel prefix must be a str, got {type(prefix).__name__}")
    if not owner or "." in owner or "!" in owner:
        raise ValueError(f"owner must be a non-empty name without '.' or '!', got {owner!r}")
    separator = "" if not prefix or prefix.endswith(".") else "."
    if local is None:
        local = secrets.token_hex(8)
    return require_valid_channel_name(f"{prefix}{separator}{owner}!{local}")


def split_process_local(name: str) -> tuple[str, str]:
    """Return ``(owner, local part)`` of process-local *name*.

    The owner is the ``.``-separated segment right before the ``!`` (see
    :func:`process_local_name`); the local part is everything after it. For a
    non-local part (``"specific.abc!"``) the local part is empty. A name without ``!``
    raises ``ValueError``.
    """
    index = name.find("!")
    if index < 0:
        raise ValueError(f"{name!r} is not a process-local channel name (it has no '!')")
    return name[:index].rpartition(".")[2], name[index + 1 :]
