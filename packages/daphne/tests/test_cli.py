"""The command line: argument handling, and real servers started with `python -m daphne`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import daphne
import httpx
import pytest
from daphne.cli import CommandLineInterface
from recording_cli import RecordingCLI, RecordingServer, server_kwargs


def endpoints_for(*args):
    cli = CommandLineInterface()
    options = cli.parser.parse_args([*args, "m:app"])
    return cli._endpoints(options)


def test_default_binding():
    assert endpoints_for() == ["tcp:port=8000:interface=127.0.0.1"]


def test_binding_options():
    assert endpoints_for("-b", "0.0.0.0") == ["tcp:port=8000:interface=0.0.0.0"]
    assert endpoints_for("-p", "9000") == ["tcp:port=9000:interface=127.0.0.1"]
    assert endpoints_for("-u", "/tmp/d.sock") == ["unix:/tmp/d.sock"]
    assert endpoints_for("--fd", "3") == ["fd:fileno=3"]
    assert endpoints_for("-e", "tcp:1", "-e", "unix:/x") == ["tcp:1", "unix:/x"]
    assert endpoints_for("-b", "::1", "-p", "81", "-e", "tcp:2") == [
        r"tcp:port=81:interface=\:\:1",
        "tcp:2",
    ]


UPSTREAM_KWARGS = {
    "application",
    "endpoints",
    "http_timeout",
    "ping_interval",
    "ping_timeout",
    "websocket_timeout",
    "websocket_connect_timeout",
    "websocket_handshake_timeout",
    "websocket_max_message_size",
    "websocket_max_frame_size",
    "application_close_timeout",
    "action_logger",
    "root_path",
    "verbosity",
    "proxy_forwarded_address_header",
    "proxy_forwarded_port_header",
    "proxy_forwarded_proto_header",
    "server_name",
}


def test_the_default_server_class_is_daphne_server():
    from daphne.server import Server

    assert CommandLineInterface.server_class is Server


def test_server_class_gets_upstream_keyword_arguments_only_by_default():
    assert set(server_kwargs()) == UPSTREAM_KWARGS


def test_options_of_this_daphne_reach_the_server_when_set():
    kwargs = server_kwargs("--lifespan", "off", "--http-parser", "python", "--max-body-size", "9")
    assert set(kwargs) - UPSTREAM_KWARGS == {"lifespan", "use_httptools", "max_body_size"}
    assert (kwargs["lifespan"], kwargs["use_httptools"], kwargs["max_body_size"]) == (
        "off",
        False,
        9,
    )


def test_server_name_options_mean_what_they_mean_upstream():
    assert server_kwargs()["server_name"] == "daphne"
    assert server_kwargs("--server-name", "")["server_name"] == ""
    assert server_kwargs("--server-name", "edge")["server_name"] == "edge"
    assert server_kwargs("--no-server-name")["server_name"] == ""


def test_proxy_header_names_follow_proxy_headers():
    assert server_kwargs()["proxy_forwarded_address_header"] is None
    kwargs = server_kwargs("--proxy-headers", "--proxy-headers-host", "X-Real-IP")
    assert kwargs["proxy_forwarded_address_header"] == "X-Real-IP"
    assert kwargs["proxy_forwarded_port_header"] == "X-Forwarded-Port"
    assert kwargs["proxy_forwarded_proto_header"] == "X-Forwarded-Proto"


@pytest.mark.parametrize("part", ["host", "port"])
def test_proxy_header_names_without_proxy_headers_raise_argument_error(part):
    import argparse

    with pytest.raises(argparse.ArgumentError) as caught:
        server_kwargs(f"--proxy-headers-{part}", "X-Custom")
    assert caught.value.argument_name == f"--proxy-headers-{part}"
    assert caught.value.message == "--proxy-headers has to be passed for this parameter."


def test_proxy_header_names_without_proxy_headers_are_a_usage_error_on_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "daphne", "--proxy-headers-host", "X-Real-IP", "daphne:__version__"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--proxy-headers has to be passed for this parameter." in result.stderr
    assert "Traceback" not in result.stderr


def test_load_asgi_app_can_be_overridden_to_wrap_the_application():
    seen = []

    class Wrapping(RecordingCLI):
        def load_asgi_app(self, asgi_app_path):
            seen.append(asgi_app_path)
            application = super().load_asgi_app(asgi_app_path)

            async def wrapped(scope, receive, send):
                await application(scope, receive, send)

            return wrapped

    cli = Wrapping()
    cli.run(["daphne_test_apps:app"])
    assert seen == ["daphne_test_apps:app"]
    assert cli.server.init_kwargs["application"].__name__ == "wrapped"


def test_cli_exits_with_status_1_when_the_server_aborts_its_start():
    class Aborting(RecordingServer):
        def run(self):
            self.abort_start = True

    class CLI(CommandLineInterface):
        server_class = Aborting

    with pytest.raises(SystemExit) as caught:
        CLI().run(["daphne_test_apps:app"])
    assert caught.value.code == 1


def test_version_flag():
    result = subprocess.run(
        [sys.executable, "-m", "daphne", "--version"], capture_output=True, text=True
    )
    assert result.stdout.strip() == f"daphne {daphne.__version__}"


def test_console_script_exists():
    script = shutil.which("daphne", path=str(Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert result.returncode == 0


def test_bad_application_path_is_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-m", "daphne", "no_such_module_xyz:app"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "No module named 'no_such_module_xyz'" in result.stderr or "no_such_module_xyz" in (
        result.stderr
    )


def test_serves_with_options_and_access_log(cli_server, free_port, tmp_path):
    port = free_port()
    log = tmp_path / "access.log"
    args = [
        "-p",
        str(port),
        "--root-path",
        "/base",
        "-s",
        "edge",
        "--access-log",
        str(log),
        "--proxy-headers",
        "daphne_test_apps:app",
    ]
    with cli_server(args, port=port):
        response = httpx.get(
            f"http://127.0.0.1:{port}/scope", headers={"X-Forwarded-For": "203.0.113.3"}
        )
        assert response.headers["server"] == "edge"
        scope = response.json()
        assert scope["root_path"] == "/base"
        assert scope["client"][0] == "203.0.113.3"
    assert '"GET /scope" 200' in log.read_text()


def test_no_server_name(cli_server, free_port):
    port = free_port()
    with cli_server(["-p", str(port), "--no-server-name", "daphne_test_apps:app"], port=port):
        assert "server" not in httpx.get(f"http://127.0.0.1:{port}/").headers


def test_unix_socket(cli_server, tmp_path):
    path = tmp_path / "daphne.sock"
    with cli_server(["-u", str(path), "daphne_test_apps:app"], wait=False) as process:
        deadline = time.monotonic() + 30
        while not path.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "daphne did not create its UNIX socket"
            time.sleep(0.05)
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport) as client:
            scope = client.get("http://local/scope").json()
    assert scope["client"] is None


def test_file_descriptor(cli_server):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    with cli_server(["--fd", str(fd), "daphne_test_apps:app"], port=port, pass_fds=(fd,)):
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "Hello, world!"
    listener.close()


def test_endpoint_string_and_python_parser(cli_server, free_port):
    port = free_port()
    args = [
        "-e",
        f"tcp:port={port}:interface=127.0.0.1",
        "--http-parser",
        "python",
        "daphne_test_apps:app",
    ]
    with cli_server(args, port=port):
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "Hello, world!"


@pytest.mark.parametrize(
    ("option", "expected"),
    [("asyncio", "asyncio.unix_events."), ("uvloop", "uvloop.Loop"), ("auto", "uvloop.Loop")],
)
def test_loop_option_picks_the_event_loop(cli_server, free_port, option, expected):
    port = free_port()
    with cli_server(["-p", str(port), "--loop", option, "daphne_test_apps:app"], port=port):
        assert httpx.get(f"http://127.0.0.1:{port}/loop").text.startswith(expected)
        echoed = httpx.post(f"http://127.0.0.1:{port}/echo", content=b"x" * 100_000)
        assert echoed.content == b"x" * 100_000


def _without(tmp_path, module):
    """PYTHONPATH for a Python where importing ``module`` fails, as if it were not installed."""
    (tmp_path / "sitecustomize.py").write_text(f"import sys\nsys.modules[{module!r}] = None\n")
    return {"PYTHONPATH": f"{tmp_path}:{Path(__file__).parent}"}


def test_auto_loop_falls_back_to_asyncio_without_uvloop(cli_server, free_port, tmp_path):
    port = free_port()
    env = _without(tmp_path, "uvloop")
    with cli_server(["-p", str(port), "daphne_test_apps:app"], port=port, env=env):
        assert httpx.get(f"http://127.0.0.1:{port}/loop").text.startswith("asyncio.")


@pytest.mark.parametrize(
    ("module", "args", "message"),
    [
        ("uvloop", ["--loop", "uvloop"], "--loop uvloop requires 'pip install uvloop'"),
        (
            "httptools",
            ["--http-parser", "httptools"],
            "--http-parser httptools requires 'pip install httptools'",
        ),
    ],
)
def test_asking_for_a_missing_optional_part_is_a_clear_error(tmp_path, module, args, message):
    result = subprocess.run(
        [sys.executable, "-m", "daphne", *args, "daphne_test_apps:app"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **_without(tmp_path, module)},
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_server_rejects_an_unknown_loop():
    from daphne.server import Server

    with pytest.raises(ValueError, match="expected loop to be one of auto, asyncio, uvloop"):
        Server(lambda scope, receive, send: None, ["tcp:0"], loop="trio")


def test_unusable_endpoint_exits_with_error():
    result = subprocess.run(
        [sys.executable, "-m", "daphne", "-e", "bogus:1", "daphne.access:AccessLogGenerator"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Unknown endpoint type: 'bogus'" in result.stderr


def test_bad_fd_description_is_a_clear_error():
    from daphne._endpoints import _parse_fd

    with pytest.raises(ValueError, match="fd:fileno=<int>"):
        _parse_fd("fd:filen=3")
    with pytest.raises(ValueError, match="domain"):
        _parse_fd("fd:fileno=3:domain=IPX")
    assert _parse_fd("fd:fileno=3:domain=INET6") == (3, socket.AF_INET6)


def test_application_error_is_logged_exactly_once(cli_server, free_port):
    port = free_port()
    with cli_server(["-p", str(port), "daphne_test_apps:app"], port=port) as process:
        assert httpx.get(f"http://127.0.0.1:{port}/error").status_code == 500
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert stderr.count("RuntimeError: deliberate failure in /error") == 1, stderr
    assert stderr.count("Traceback") == 1
