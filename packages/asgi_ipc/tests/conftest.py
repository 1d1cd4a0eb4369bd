"""Fixtures for asgi_ipc tests: unique prefixes, layers that are always closed,
and a check that a test leaves no shared-memory names of its prefix behind."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgi_ipc.core import IPCChannelLayer

SHM = Path("/dev/shm")


def pytest_configure(config: pytest.Config) -> None:
    if not SHM.is_dir():
        raise pytest.UsageError(
            "asgi_ipc tests need POSIX shared memory mounted at /dev/shm "
            "(mount -t tmpfs tmpfs /dev/shm)"
        )


def shm_names(prefix: str) -> list[str]:
    """Names in /dev/shm that belong to the layer prefix *prefix*."""
    return sorted(
        entry.name
        for entry in SHM.iterdir()
        if entry.name == f"asgi_ipc.{prefix}"
        or entry.name.startswith((f"asgi_ipc.{prefix}.w.", f"sem.asgi_ipc.{prefix}.w."))
    )


@pytest.fixture
def prefix() -> Iterator[str]:
    """A prefix no other test (or engineer) uses; its names are removed afterwards."""
    name = f"t{os.getpid()}-{secrets.token_hex(4)}"
    yield name
    for leftover in shm_names(name):
        (SHM / leftover).unlink(missing_ok=True)


@pytest.fixture
async def make_layer(prefix: str) -> AsyncIterator[Callable[..., IPCChannelLayer]]:
    """Build layers on the test's prefix (small segments); all are closed at the end."""
    layers: list[IPCChannelLayer] = []

    def build(**kwargs: Any) -> IPCChannelLayer:
        options: dict[str, Any] = {
            "prefix": prefix,
            "message_memory": 1 << 20,
            "group_memory": 1 << 18,
            **kwargs,
        }
        layer = IPCChannelLayer(**options)
        layers.append(layer)
        return layer

    yield build
    for layer in layers:
        await layer.close()


@pytest.fixture
def names_of() -> Callable[[str], list[str]]:
    """``names_of(prefix)`` lists the /dev/shm names of a prefix."""
    return shm_names


@pytest.fixture
def python() -> str:
    return sys.executable
