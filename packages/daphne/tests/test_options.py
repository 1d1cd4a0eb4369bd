"""Server options: one declaration per option reaches Python, the command line and runserver."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from daphne._config import ServerConfig, option_fields
from daphne._options import Option
from daphne.cli import CommandLineInterface
from daphne.server import Server
from recording_cli import server_kwargs

PROJECT = Path(__file__).parent / "djproject"


def app(scope, receive, send):
    raise AssertionError("never called")


def sample(default, spec: Option) -> tuple[list[str], object]:
    """A value other than the default, and the long-flag words that ask for it."""
    flag = [f for f in spec.flags if f.startswith("--")][-1]
    if spec.requires:
        return ["--proxy-headers", flag, "X-Test"], "X-Test"
    if spec.cli_values is not None:
        word = next(w for w, v in spec.cli_values.items() if v != default)
        return [flag, word], spec.cli_values[word]
    if spec.cli_type is None:
        return [flag], not default
    if spec.choices is not None:
        choice = next(c for c in spec.choices if c != default)
        return [flag, str(choice)], choice
    if spec.nargs:
        return [flag, "one", "two"], ["one", "two"]
    if spec.cli_type is str:
        return [flag, "x-test"], "x-test"
    value = spec.cli_type(7 if default is None else default + 1)
    return [flag, str(value)], value


SAMPLES = {
    field.name: (field.default, *sample(field.default, spec))
    for field, spec in option_fields().items()
}


def config_value(name, value):
    spec = next(s for f, s in option_fields().items() if f.name == name)
    return spec.convert(value) if spec.convert else value


def runserver_kwargs(argvs: dict[str, list[str]]) -> dict[str, dict[str, object]]:
    """For each option, the keywords runserver hands its server for that option's flags."""
    script = r"""
import io, json, sys
import django
from django.core.management import CommandError, call_command
from daphne.management.commands.runserver import Command

class Recording:
    def __init__(self, **kwargs):
        kwargs.pop("application"), kwargs.pop("action_logger")
        Recording.kwargs = kwargs
    def run(self):
        pass

django.setup()
Command.daphne_server_cls = Recording
found = {}
for name, argv in json.load(sys.stdin).items():
    # The address first: --ws-protocol takes every word after it.
    argv = ["127.0.0.1:8765", "--noreload", "--skip-checks", *argv]
    try:
        call_command("runserver", *argv, stdout=io.StringIO())
    except CommandError as exc:
        found[name] = {"refused": str(exc)}
        continue
    found[name] = Recording.kwargs
print(json.dumps(found))
"""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="djsite", PYTHONPATH=str(PROJECT))
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def cli_kwargs(argv):
    kwargs = dict(server_kwargs(*argv))
    del kwargs["application"], kwargs["action_logger"], kwargs["endpoints"]
    return kwargs


def test_every_option_reaches_the_server_from_python_the_command_line_and_runserver():
    from_runserver = runserver_kwargs({name: argv for name, (_, argv, _) in SAMPLES.items()})
    for name, (default, argv, value) in SAMPLES.items():
        expected = config_value(name, value)
        assert expected != default, name
        python = Server(app, ["tcp:0"], **{name: value})
        assert getattr(python.config, name) == expected, f"{name} from Python"
        cli = Server(app, ["tcp:0"], **cli_kwargs(argv))
        assert getattr(cli.config, name) == expected, f"{name} from {argv}"
        if name == "workers":  # runserver is one process: it refuses, naming the way
            assert f"daphne --workers {value}" in from_runserver[name]["refused"]
            continue
        runserver = Server(app, **from_runserver[name])
        assert getattr(runserver.config, name) == expected, f"{name} from runserver {argv}"


def test_runserver_hands_over_only_what_was_typed_plus_upstream_runserver_keywords():
    assert runserver_kwargs({"nothing": []})["nothing"] == {
        "endpoints": ["tcp:port=8765:interface=127.0.0.1"],
        "signal_handlers": True,
        "http_timeout": None,
        "root_path": "",
        "websocket_handshake_timeout": 5,
    }
    spelled = runserver_kwargs(
        {"upstream": ["--http_timeout", "9", "--websocket_handshake_timeout", "3"]}
    )["upstream"]
    assert (spelled["http_timeout"], spelled["websocket_handshake_timeout"]) == (9, 3)


def test_server_signature_lists_every_option_in_upstream_positional_order():
    parameters = inspect.signature(Server).parameters
    assert list(parameters)[:5] == [
        "application",
        "endpoints",
        "signal_handlers",
        "action_logger",
        "http_timeout",
    ]
    assert {field.name for field in option_fields()} <= set(parameters)
    assert parameters["max_headers"].kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_headers": 0}, ValueError, "expected max_headers to be a positive number, got 0"),
        ({"ping_interval": "20"}, TypeError, "expected ping_interval to be a number, got '20'"),
        ({"lifespan": "sometimes"}, ValueError, "expected lifespan to be one of auto, on, off"),
        ({"websocket_deflate_window_bits": 8}, ValueError, "window_bits to be in 9..15"),
        ({"server_name": 5}, TypeError, "server_name: expected a str, bytes or None, got 5"),
        ({"max_header": 10}, TypeError, "unexpected server option 'max_header'"),
        (
            {"proxy_forwarded_address_header": "X-F", "proxy_trusted_ips": "nope"},
            ValueError,
            "nope",
        ),
    ],
)
def test_a_bad_option_from_python_names_the_option(options, error, message):
    with pytest.raises(error) as caught:
        Server(app, ["tcp:0"], **options)
    assert message in str(caught.value)


def test_server_arguments_behave_like_a_python_signature():
    with pytest.raises(TypeError, match="multiple values for argument 'signal_handlers'"):
        Server(app, ["tcp:0"], False, signal_handlers=True)
    with pytest.raises(TypeError, match="at most 21 positional arguments"):
        Server(app, ["tcp:0"], *([None] * 20))
    server = Server(app, ["tcp:0"], False, None, 3, ready_callable=print)
    assert (server.signal_handlers, server.config.http_timeout, server.ready_callable) == (
        False,
        3,
        print,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-headers", "0"], "argument --max-headers: expected a positive number, got '0'"),
        (["--max-headers", "many"], "argument --max-headers: expected an integer, got 'many'"),
        (["--lifespan", "sometimes"], "argument --lifespan: invalid choice: 'sometimes'"),
        (["--shutdown-timeout", "soon"], "expected a number, got 'soon'"),
    ],
)
def test_a_bad_value_on_the_command_line_is_a_usage_error(capsys, argv, message):
    with pytest.raises(SystemExit) as caught:
        CommandLineInterface().parser.parse_args([*argv, "m:app"])
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_the_command_line_keeps_upstream_defaults_where_they_differ_from_the_server():
    kwargs = cli_kwargs([])
    assert kwargs["websocket_connect_timeout"] == kwargs["websocket_handshake_timeout"] == 5
    assert cli_kwargs(["--websocket_connect_timeout", "8"])["websocket_handshake_timeout"] == 8
    assert cli_kwargs(["--websocket-handshake-timeout", "2"])["websocket_handshake_timeout"] == 2
    assert ServerConfig().websocket_connect_timeout == 20


def test_every_option_has_a_flag_and_help():
    for field, spec in option_fields().items():
        assert any(flag.startswith("--") for flag in spec.flags), field.name
        assert spec.help, field.name


def test_proxy_headers_proto_follows_the_proxy_headers_rule():
    with pytest.raises(argparse.ArgumentError, match="--proxy-headers has to be passed"):
        cli_kwargs(["--proxy-headers-proto", "X-Scheme"])
    kwargs = cli_kwargs(["--proxy-headers", "--proxy-headers-proto", "X-Scheme"])
    assert kwargs["proxy_forwarded_proto_header"] == "X-Scheme"


def test_the_committed_cli_reference_is_generated_from_the_options():
    from daphne._clidoc import render

    page = Path(__file__).resolve().parents[3] / "docs" / "daphne-cli.md"
    assert page.read_text(encoding="utf-8") == render(), (
        "docs/daphne-cli.md is stale: run `python -m daphne._clidoc docs/daphne-cli.md`"
    )
    for field in option_fields():
        assert f"`{field.name}`" in page.read_text(encoding="utf-8"), field.name
