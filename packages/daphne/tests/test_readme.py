"""The README's examples run as written."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import websockets

README = Path(__file__).parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_application_serves_http_and_websocket(cli_server, free_port, tmp_path):
    (tmp_path / "myapp.py").write_text(python_blocks()[0])
    port = free_port()
    with cli_server(
        ["-p", str(port), "myapp:application"], port=port, env={"PYTHONPATH": str(tmp_path)}
    ):
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "Hello from daphne"

        async def talk():
            async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
                await ws.send("hi")
                return await ws.recv()

        assert asyncio.run(talk()) == "hi"


def test_readme_python_api_example_names_real_api():
    block = python_blocks()[1]
    namespace = {}
    exec(block.replace(".run()", ""), {"application": lambda *a: None}, namespace)
    assert namespace["Server"].__module__ == "daphne._server"


def test_readme_django_settings_put_daphne_before_staticfiles():
    # The third block is the settings fragment of the "Django" section (the docs site shows
    # it): its order is the one the daphne.E001 check asks for.
    block = python_blocks()[2]
    namespace = {}
    exec(block, {}, namespace)
    apps = namespace["INSTALLED_APPS"]
    assert apps.index("daphne") < apps.index("django.contrib.staticfiles")
    assert namespace["ASGI_APPLICATION"] == "mysite.asgi.application"
