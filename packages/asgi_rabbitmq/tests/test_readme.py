"""The README's examples run as written (with the test broker's address)."""

from __future__ import annotations

import asyncio
import importlib
import re
from pathlib import Path
from typing import Any

import pytest

README = (Path(__file__).parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
DEFAULT_HOST = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _build(settings: dict[str, Any]) -> Any:
    layer_config = settings["CHANNEL_LAYERS"]["default"]
    module, _, name = layer_config["BACKEND"].rpartition(".")
    return getattr(importlib.import_module(module), name)(**layer_config["CONFIG"])


def test_readme_has_the_examples_this_file_runs() -> None:
    assert len(BLOCKS) == 3


def test_settings_example_builds_a_working_layer(broker: str) -> None:
    namespace: dict[str, Any] = {}
    exec(BLOCKS[0].replace(DEFAULT_HOST, broker), namespace)
    layer = _build(namespace)

    async def round_trip() -> None:
        await layer.send("readme.settings", {"type": "ok"})
        assert await layer.receive("readme.settings") == {"type": "ok"}
        await layer.flush()
        await layer.close()

    asyncio.run(round_trip())


def test_usage_example_runs(broker: str) -> None:
    # The example calls asyncio.run itself.
    exec(BLOCKS[1].replace(DEFAULT_HOST, broker), {"__name__": "readme"})


@pytest.mark.rabbitmq_node
def test_tls_example_connects(rabbit_node: Any) -> None:
    source = (
        BLOCKS[2]
        .replace("amqps://user:password@rabbit.example.com:5671/%2F", rabbit_node.tls_url)
        .replace("/etc/ssl/rabbit-ca.pem", str(rabbit_node.ca_file))
    )
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    layer = _build(namespace)

    async def round_trip() -> None:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "tls"})
        assert await layer.receive(channel) == {"type": "tls"}
        await layer.close()

    asyncio.run(round_trip())
