"""Validated configuration of the shared-memory layer (pure, no IO)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from asgiref.layers import InvalidChannelLayerError

from ._spin import SPIN_WINDOW

__all__ = ["DEFAULT_GROUP_MEMORY", "DEFAULT_MESSAGE_MEMORY", "IPCConfig"]

DEFAULT_MESSAGE_MEMORY: Final = 100 * 1024 * 1024
DEFAULT_GROUP_MEMORY: Final = 20 * 1024 * 1024
_MIN_MEMORY: Final = 16 * 1024
_MAX_MEMORY: Final = 1 << 40
# Segment and wake-up FIFO names are "/asgi_ipc.<prefix>[.w.<token>]"; NAME_MAX
# (255) minus room for the suffixes bounds the prefix.
_PREFIX_RE: Final = re.compile(r"[A-Za-z0-9_.\-]{1,120}", re.ASCII)


def _positive_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidChannelLayerError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _memory(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidChannelLayerError(f"{name} must be an int number of bytes, got {value!r}")
    if not _MIN_MEMORY <= value <= _MAX_MEMORY:
        raise InvalidChannelLayerError(
            f"{name} must be between {_MIN_MEMORY} and {_MAX_MEMORY} bytes, got {value}"
        )
    return value


@dataclass(frozen=True)
class IPCConfig:
    """The settings that shape the shared segment and its timing."""

    prefix: str
    expiry: float
    group_expiry: float
    message_memory: int
    group_memory: int
    mode: int
    lock_timeout: float
    spin: float = SPIN_WINDOW

    @classmethod
    def build(
        cls,
        *,
        prefix: object,
        expiry: object,
        group_expiry: object,
        message_memory: object,
        group_memory: object,
        mode: object,
        lock_timeout: object,
        spin: object = SPIN_WINDOW,
    ) -> IPCConfig:
        if not isinstance(prefix, str) or _PREFIX_RE.fullmatch(prefix) is None:
            raise InvalidChannelLayerError(
                "prefix must be 1-120 characters from ASCII letters, digits, '_', '.', '-', "
                f"got {prefix!r}"
            )
        if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o777:
            raise InvalidChannelLayerError(
                f"mode must be a permission int such as 0o600, got {mode!r}"
            )
        if not mode & 0o600 == 0o600:
            raise InvalidChannelLayerError(
                f"mode must let the owner read and write (0o600 bits), got {oct(mode)}"
            )
        if isinstance(spin, bool) or not isinstance(spin, (int, float)) or not 0 <= spin <= 0.01:
            raise InvalidChannelLayerError(
                f"spin must be a number of seconds from 0 (never spin) to 0.01, got {spin!r}"
            )
        return cls(
            prefix=prefix,
            expiry=_positive_number("expiry", expiry),
            group_expiry=_positive_number("group_expiry", group_expiry),
            message_memory=_memory("message_memory", message_memory),
            group_memory=_memory("group_memory", group_memory),
            mode=mode,
            lock_timeout=_positive_number("lock_timeout", lock_timeout),
            spin=float(spin),
        )

    @property
    def segment_name(self) -> str:
        return f"/asgi_ipc.{self.prefix}"

    def wake_path(self, token: str) -> str:
        return f"/dev/shm/asgi_ipc.{self.prefix}.w.{token}"
