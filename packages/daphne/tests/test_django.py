"""Django integration: runserver served by daphne, static files, autoreload, system check."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets

PROJECT = Path(__file__).parent / "djproject"


def manage(*args, env=None, **kwargs):
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE="djsite", PYTHONPATH=str(PROJECT))
    environment.update(env or {})
    return subprocess.Popen(
        [sys.executable, str(PROJECT / "djsite.py"), *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=PROJECT,
        **kwargs,
    )


def wait_http(url, process, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"runserver exited: {process.communicate()[0]}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(process):
    process.terminate()
    try:
        return process.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


def test_system_check_requires_daphne_before_staticfiles():
    bad = manage("check", env={"DJSITE_ORDER": "staticfiles-first"})
    output = bad.communicate(timeout=60)[0]
    assert bad.returncode == 1
    assert "daphne.E001" in output
    good = manage("check")
    assert "no issues" in good.communicate(timeout=60)[0]
    assert good.returncode == 0


def test_runserver_serves_django_and_static_files(free_port):
    port = free_port()
    process = manage("runserver", "--noreload", f"127.0.0.1:{port}")
    try:
        response = wait_http(f"http://127.0.0.1:{port}/hello/", process)
        assert response.text == "hello from django http /hello/"
        assert response.headers["server"] == "daphne"
        static = httpx.get(f"http://127.0.0.1:{port}/static/file.txt")
        assert static.status_code == 200
        assert static.text == "static content\n"
    finally:
        output = stop(process)
    assert "Starting ASGI/Daphne version" in output
    assert "HTTP GET /hello/ 200" in output


def test_nostatic_disables_static_files(free_port):
    port = free_port()
    process = manage("runserver", "--noreload", "--nostatic", f"127.0.0.1:{port}")
    try:
        wait_http(f"http://127.0.0.1:{port}/hello/", process)
        assert httpx.get(f"http://127.0.0.1:{port}/static/file.txt").status_code == 404
    finally:
        stop(process)


async def test_runserver_serves_websockets_from_asgi_application(free_port):
    port = free_port()
    process = manage(
        "runserver", "--noreload", f"127.0.0.1:{port}", env={"DJSITE_ASGI": "djsite.websocket_app"}
    )
    try:
        import asyncio

        await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/hello/", process)
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/") as ws:
            await ws.send("ping")
            assert await ws.recv() == "echo:ping"
    finally:
        stop(process)


def test_bad_asgi_application_setting_is_a_command_error(free_port):
    process = manage(
        "runserver",
        "--noreload",
        f"127.0.0.1:{free_port()}",
        env={"DJSITE_ASGI": "djsite.nope"},
    )
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 1
    assert "Cannot import ASGI_APPLICATION module 'djsite.nope'" in output


@pytest.mark.parametrize("flag", ["--noasgi"])
def test_noasgi_falls_back_to_wsgi_runserver(free_port, flag):
    port = free_port()
    process = manage("runserver", "--noreload", flag, f"127.0.0.1:{port}")
    try:
        response = wait_http(f"http://127.0.0.1:{port}/hello/", process)
        assert response.text == "hello from django http /hello/"
        assert "server" not in response.headers or "daphne" not in response.headers["server"]
    finally:
        stop(process)


def test_autoreload_restarts_on_code_change(free_port, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    source = (PROJECT / "djsite.py").read_text()
    (project / "djsite.py").write_text(source)
    (project / "static_src").mkdir()
    port = free_port()
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE="djsite", PYTHONPATH=str(project))
    process = subprocess.Popen(
        [sys.executable, str(project / "djsite.py"), "runserver", f"127.0.0.1:{port}"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=project,
    )
    try:
        assert "hello from django" in wait_http(f"http://127.0.0.1:{port}/hello/", process).text
        (project / "djsite.py").write_text(source.replace("hello from django", "reloaded django"))
        deadline = time.monotonic() + 60
        while True:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/hello/", timeout=2).text
            except httpx.TransportError:
                text = ""
            if text.startswith("reloaded django"):
                break
            assert time.monotonic() < deadline, "runserver did not reload the changed code"
            time.sleep(0.2)
    finally:
        stop(process)
