"""The buddy allocator and the undo journal, on an anonymous map (no IPC)."""

from __future__ import annotations

import itertools
import mmap
import random

import pytest
from asgi_ipc._alloc import BLOCK_HEADER, Buddy
from asgi_ipc._errors import SharedMemoryFull
from asgi_ipc._journal import Journal
from hypothesis import given, settings
from hypothesis import strategies as st

ARENA = 64 * 1024
LOG_OFF, LOG_SIZE = 64, 16 * 1024
ARENA_OFF = LOG_OFF + LOG_SIZE


def build() -> tuple[Journal, Buddy]:
    mm = mmap.mmap(-1, ARENA_OFF + ARENA)
    journal = Journal(mm, 0, LOG_OFF, LOG_SIZE)
    buddy = Buddy(journal, ARENA_OFF, ARENA)
    buddy.reset()
    return journal, buddy


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 6000)), max_size=80))
def test_random_alloc_free_keeps_the_arena_consistent(ops: list[tuple[bool, int]]) -> None:
    journal, buddy = build()
    _, free_at_start = buddy.check()
    live: dict[int, int] = {}
    for allocate, size in ops:
        if allocate or not live:
            off = buddy.alloc(size)
            if off:
                assert off not in live
                live[off] = size
                journal.mm[off + BLOCK_HEADER : off + BLOCK_HEADER + size] = b"\xaa" * size
        else:
            victim = sorted(live)[size % len(live)]
            del live[victim]
            buddy.free(victim)
        journal.commit()
        used, _ = buddy.check()
        assert used == len(live)
    for off in list(live):
        buddy.free(off)
        journal.commit()
    # Everything is free again; merging restores the largest blocks.
    assert buddy.check() == (0, free_at_start)
    buddy.coalesce()
    assert buddy.alloc(buddy.max_payload)


def test_blocks_never_overlap() -> None:
    journal, buddy = build()
    spans = []
    while off := buddy.alloc(random.Random(len(spans)).randint(1, 900)):
        spans.append((off, off + (64 << journal.mm[off + 1])))
    spans.sort()
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))


def test_rollback_restores_the_state_before_any_write() -> None:
    journal, buddy = build()
    keep = buddy.alloc(100)
    journal.commit()
    before = bytes(journal.mm[ARENA_OFF:])
    buddy.alloc(3000)
    buddy.free(keep)
    assert journal.pending()
    journal.rollback()
    assert bytes(journal.mm[ARENA_OFF:]) == before
    assert buddy.check()[0] == 1


def test_a_change_too_big_for_the_undo_log_is_refused() -> None:
    mm = mmap.mmap(-1, 4096)
    journal = Journal(mm, 0, 64, 256)
    with pytest.raises(SharedMemoryFull, match="undo log"):
        for n in range(100):
            journal.u64(1024 + 8 * n, n + 1)
    journal.rollback()
    assert bytes(mm[1024:2048]) == bytes(1024)


def test_a_block_reused_back_and_forth_does_not_merge_and_split_each_time() -> None:
    journal, buddy = build()
    buddy.free(buddy.alloc(100))
    journal.commit()
    before = bytes(journal.mm[ARENA_OFF:])
    buddy.free(buddy.alloc(100))
    journal.commit()
    # Deferred merging: the same block went out and came back, nothing else moved.
    assert bytes(journal.mm[ARENA_OFF:]) == before


def test_oversized_request_gets_no_block() -> None:
    _journal, buddy = build()
    assert buddy.alloc(buddy.max_payload + 1) == 0
    assert buddy.alloc(buddy.max_payload)
