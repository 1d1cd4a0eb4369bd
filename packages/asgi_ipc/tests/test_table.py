"""The open-addressing name table against a dict model (no IPC)."""

from __future__ import annotations

import mmap

from asgi_ipc._journal import Journal
from asgi_ipc._table import PAYLOAD, NameTable
from hypothesis import given, settings
from hypothesis import strategies as st

SLOTS, ENTRY = 16, 128


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.text("abcdefgh.", min_size=1, max_size=6)), max_size=120)
)
def test_insert_find_delete_match_a_set(ops: list[tuple[bool, str]]) -> None:
    mm = mmap.mmap(-1, 64 + 8192 + SLOTS * ENTRY)
    journal = Journal(mm, 0, 64, 8192)
    table = NameTable(journal, 64 + 8192, SLOTS, ENTRY, 8)
    table.reset()
    model: set[bytes] = set()
    for add, text in ops:
        name = text.encode()
        if add:
            at = table.insert(name)
            if at:
                model.add(name)
                mm[at + PAYLOAD] = len(name)
            else:
                assert len(model) >= table.limit and name not in model
        elif name in model:
            table.delete(table.find(name))
            model.remove(name)
        journal.commit()
        assert table.used == len(model)
        # Backward-shift deletion keeps every name reachable from its home.
        for known in model:
            at = table.find(known)
            assert at and mm[at + PAYLOAD] == len(known)
        assert {name for name, _ in table.items()} == model
