"""The client table: which layer instances are attached, by pid and token.

A slot's index is the bit a client sets in a channel's waiter map; its token
names the client's wake-up FIFO. Slots of dead processes are reclaimed
when a new client registers, so a crashed process leaks nothing for long.
"""

from __future__ import annotations

import os
import struct
from typing import Final

from ._errors import SharedMemoryFull
from ._journal import Journal
from ._layout import CLIENT_SIZE, CLIENT_SLOTS

__all__ = ["Clients", "pid_alive"]

_SLOT: Final = struct.Struct("<II16s")


def pid_alive(pid: int) -> bool:
    """Whether *pid* is a running (not zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # The state letter follows the parenthesised command name.
            return stat.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


class Clients:
    def __init__(self, journal: Journal, off: int) -> None:
        self.j = journal
        self.off = off

    def _slot(self, index: int) -> tuple[int, int, str]:
        pid, used, token = _SLOT.unpack_from(self.j.mm, self.off + index * CLIENT_SIZE)
        return pid, used, token.rstrip(b"\0").decode("ascii", "replace")

    def token(self, index: int) -> str | None:
        _pid, used, token = self._slot(index)
        return token if used else None

    def dead(self) -> list[tuple[int, str]]:
        """Slots whose process has exited, as (index, token)."""
        found = []
        for index in range(CLIENT_SLOTS):
            pid, used, token = self._slot(index)
            if used and not pid_alive(pid):
                found.append((index, token))
        return found

    def register(self, pid: int, token: str) -> int:
        for index in range(CLIENT_SLOTS):
            if not self._slot(index)[1]:
                self.j.write(
                    self.off + index * CLIENT_SIZE, _SLOT.pack(pid, 1, token.encode("ascii"))
                )
                return index
        raise SharedMemoryFull(
            f"all {CLIENT_SLOTS} client slots are taken by live processes; "
            "close layers that are no longer used"
        )

    def release(self, index: int) -> None:
        self.j.write(self.off + index * CLIENT_SIZE, bytes(CLIENT_SIZE))

    def live(self) -> int:
        return sum(
            1
            for index in range(CLIENT_SLOTS)
            if self._slot(index)[1] and pid_alive(self._slot(index)[0])
        )
