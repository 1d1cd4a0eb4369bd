"""The README's Python examples run, and the chat test in it passes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def _namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    blocks = _python_blocks()
    # The settings block documents configuration; the rest is executable code.
    for index, block in enumerate(blocks[1:], start=1):
        exec(compile(block, f"README.md block {index}", "exec"), namespace)
    return namespace


def test_readme_has_the_documented_examples() -> None:
    blocks = _python_blocks()
    assert "CHANNEL_LAYERS" in blocks[0]
    assert any("class ChatConsumer" in block for block in blocks)
    assert any("async def test_chat_room" in block for block in blocks)


@pytest.mark.usefixtures("db")
async def test_readme_chat_example_passes() -> None:
    namespace = _namespace()
    await namespace["test_chat_room"]()


async def test_readme_lifespan_hook_runs() -> None:
    from channels.testing import ApplicationCommunicator

    namespace = _namespace()
    communicator = ApplicationCommunicator(namespace["application"], {"type": "lifespan"})
    await communicator.send_input({"type": "lifespan.startup"})
    assert await communicator.receive_output() == {"type": "lifespan.startup.complete"}
    assert namespace["started"] == ["warm"]
    await communicator.send_input({"type": "lifespan.shutdown"})
    assert await communicator.receive_output() == {"type": "lifespan.shutdown.complete"}
    await communicator.wait()


def test_readme_settings_block_is_valid_python() -> None:
    compile(_python_blocks()[0].replace("...", "None"), "settings", "exec")


# --- the Channels 1 features' examples ---------------------------------------------


async def test_readme_multiplexer_example_passes() -> None:
    await _namespace()["test_dashboard"]()


@pytest.mark.usefixtures("db")
async def test_readme_binding_example_passes() -> None:
    from channels.db import database_sync_to_async
    from django.contrib.auth.models import Group

    namespace = _namespace()
    try:
        await namespace["test_group_binding"]()
    finally:
        namespace["GroupBinding"].unregister()
        await database_sync_to_async(lambda: Group.objects.all().delete())()


async def test_readme_delay_example_sends_a_valid_request() -> None:
    from channels.delay import DELAY_CHANNEL, validate_delay_message
    from channels.layers import get_channel_layer

    await _namespace()["remind_later"]("reminders")
    request = await get_channel_layer().receive(DELAY_CHANNEL)
    parsed = validate_delay_message(request)
    assert (parsed.channel, parsed.content["type"], parsed.delay_ms) == (
        "reminders",
        "reminder",
        5000,
    )


def test_readme_javascript_example_is_the_one_the_browser_test_runs() -> None:
    blocks = re.findall(r"```javascript\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    assert "new channels.WebSocketBridge()" in blocks[0]
