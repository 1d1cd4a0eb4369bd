"""A small cross-process reference layer on SQLite, used to exercise the suite.

It exists so that the cross-process conformance tests (which the in-memory
layer cannot claim) run in this repository without a broker. It favours
obviousness over speed: every operation is one short synchronous transaction,
which also makes ``receive`` cancellation-safe (a row is deleted and returned
with no ``await`` in between). Receivers poll.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import threading
import time
from collections.abc import Mapping
from typing import Any

from asgiref.layers import (
    BaseChannelLayer,
    CapacityPattern,
    ChannelFull,
    get_serializer,
    process_local_name,
    require_valid_channel_name,
    require_valid_group_name,
    validate_message,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    expires REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_channel ON messages (channel, id);
CREATE TABLE IF NOT EXISTS members (
    grp TEXT NOT NULL,
    channel TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (grp, channel)
);
"""


class SQLiteChannelLayer(BaseChannelLayer):
    extensions = ["groups", "flush"]

    def __init__(
        self,
        path: str,
        expiry: float = 60,
        group_expiry: float = 86400,
        capacity: int = 100,
        channel_capacity: Mapping[CapacityPattern, int] | None = None,
        poll_interval: float = 0.002,
    ) -> None:
        super().__init__(expiry=expiry, capacity=capacity, channel_capacity=channel_capacity)
        self.path = path
        self.group_expiry = group_expiry
        self.poll_interval = poll_interval
        self._serializer = get_serializer("json")
        self._client = secrets.token_hex(6)
        # A SQLite connection belongs to the thread that opened it, and a layer is
        # called from many threads (each sync caller runs its calls in its own thread):
        # one connection per thread.
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            self._local.db = db
            with self._all_lock:
                self._all.append(db)
        return db

    def _transaction(self) -> sqlite3.Connection:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        return db

    def _enqueue(self, db: sqlite3.Connection, channel: str, body: bytes, now: float) -> bool:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM messages WHERE channel = ? AND expires > ?", (channel, now)
        ).fetchone()
        if count >= self.get_capacity(channel):
            return False
        db.execute(
            "INSERT INTO messages (channel, expires, body) VALUES (?, ?, ?)",
            (channel, now + self.expiry, body),
        )
        return True

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        require_valid_channel_name(channel)
        body = self._serializer.serialize(validate_message(message))
        db = self._transaction()
        try:
            accepted = self._enqueue(db, channel, body, time.time())
        finally:
            db.execute("COMMIT")
        if not accepted:
            raise ChannelFull(f"Channel {channel!r} is at its capacity")

    def _pop(self, channel: str) -> bytes | None:
        db = self._transaction()
        try:
            now = time.time()
            db.execute("DELETE FROM messages WHERE channel = ? AND expires <= ?", (channel, now))
            row = db.execute(
                "SELECT id, body FROM messages WHERE channel = ? ORDER BY id LIMIT 1", (channel,)
            ).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM messages WHERE id = ?", (row[0],))
            body: bytes = row[1]
            return body
        finally:
            db.execute("COMMIT")

    async def receive(self, channel: str) -> dict[str, Any]:
        require_valid_channel_name(channel)
        while True:
            body = self._pop(channel)
            if body is not None:
                return self._serializer.deserialize(body)
            await asyncio.sleep(self.poll_interval)

    async def new_channel(self, prefix: str = "specific.") -> str:
        return process_local_name(prefix, self._client)

    async def group_add(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        self._connection().execute(
            "INSERT OR REPLACE INTO members (grp, channel, expires) VALUES (?, ?, ?)",
            (group, channel, time.time() + self.group_expiry),
        )

    async def group_discard(self, group: str, channel: str) -> None:
        require_valid_group_name(group)
        require_valid_channel_name(channel)
        self._connection().execute(
            "DELETE FROM members WHERE grp = ? AND channel = ?", (group, channel)
        )

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        require_valid_group_name(group)
        body = self._serializer.serialize(validate_message(message))
        db = self._transaction()
        try:
            now = time.time()
            rows = db.execute(
                "SELECT channel FROM members WHERE grp = ? AND expires > ?", (group, now)
            ).fetchall()
            for (channel,) in rows:
                self._enqueue(db, channel, body, now)
        finally:
            db.execute("COMMIT")

    async def flush(self) -> None:
        db = self._transaction()
        try:
            db.execute("DELETE FROM messages")
            db.execute("DELETE FROM members")
        finally:
            db.execute("COMMIT")

    async def close(self) -> None:
        # Each thread's connection is only used by that thread; closing is safe from
        # here once the callers are done (check_same_thread=False permits it).
        with self._all_lock:
            connections, self._all = self._all, []
        self._local = threading.local()
        for db in connections:
            db.close()
