"""The pytest plugin of the server kit (registered through the ``pytest11`` entry point).

It adds the ``--server-*`` options and two fixtures, ``server_kit`` (the session's
:class:`~asgi_conformance.server._kit.Kit`) and ``server_observe`` (record what a server did
where the specification leaves a choice). Registering it costs nothing: it starts
nothing until a check asks for ``server_kit``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ._kit import CLAIMS, COMMANDS, Kit, KitOptions
from ._report import ResultsWriter

USAGE = (
    "the ASGI server conformance kit needs the command that starts your server, e.g.\n"
    '  pytest --pyargs asgi_conformance.server --server-cmd "uvicorn --port {port} {app}"'
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the kit's ``--server-*`` options, in their own group of ``pytest --help``.

    One ``--server-cmd`` (the server to test) plus one ``--server-<kind>-cmd`` per other
    command the kit can use, the claimed features, the server's configured limits, its
    label and the JSON results path. None of them is required here: ``server_kit`` fails
    the checks that need it when ``--server-cmd`` is missing.
    """
    group = parser.getgroup("asgi-conformance-server", "ASGI server conformance kit")
    for kind, meaning in COMMANDS.items():
        option = "--server-cmd" if kind == "main" else f"--server-{kind.replace('_', '-')}-cmd"
        group.addoption(
            option,
            dest=f"server_{kind}_cmd",
            default=None,
            help=f"command template: {meaning}; placeholders {{python}} {{host}} {{port}} {{app}} "
            "{certfile} {keyfile}",
        )
    group.addoption(
        "--server-claims",
        default="",
        help=f"comma-separated features the server claims: {', '.join(CLAIMS)}",
    )
    group.addoption("--server-max-body", type=int, default=None, help="configured body limit")
    group.addoption(
        "--server-head-timeout",
        type=float,
        default=35.0,
        help="seconds after which the server gives up on an incomplete request head",
    )
    group.addoption(
        "--server-ws-max-message",
        type=int,
        default=16 * 1024 * 1024,
        help="the server's WebSocket message size limit (bytes)",
    )
    group.addoption("--server-name", default="server", help="label in the results file")
    group.addoption("--server-report", default=None, help="write results as JSON to this path")


def options_from(config: pytest.Config) -> KitOptions:
    """The kit's settings, read from the ``--server-*`` options of *config*.

    Only the commands that were given are kept; ``--server-claims`` is split on commas.
    Raises ``ValueError`` naming any claim the kit does not know.
    """
    commands = {
        kind: str(value) for kind in COMMANDS if (value := config.getoption(f"server_{kind}_cmd"))
    }
    claims = frozenset(c.strip() for c in config.getoption("server_claims").split(",") if c.strip())
    return KitOptions(
        commands=commands,
        claims=claims,
        max_body=config.getoption("server_max_body"),
        head_timeout=config.getoption("server_head_timeout"),
        ws_max_message=config.getoption("server_ws_max_message"),
        name=config.getoption("server_name"),
    )


def pytest_configure(config: pytest.Config) -> None:
    """With ``--server-report PATH``, register the writer of the JSON results file.

    The file records each check's outcome under ``--server-name`` with the commands,
    claims and body limit used (the input of ``asgi_conformance.server.matrix``). Without
    the option nothing is registered. An unknown claim raises ``ValueError``.
    """
    report = config.getoption("server_report", None)
    if report:
        options = options_from(config)
        settings = {
            "commands": options.commands,
            "claims": sorted(options.claims),
            "max_body": options.max_body,
        }
        writer = ResultsWriter(Path(report), options.name, settings)
        config.pluginmanager.register(writer, "asgi-conformance-server-report")


@pytest.fixture(scope="session")
def server_kit(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Kit]:
    """The kit: options, claims and the servers it started (stopped at the end)."""
    try:
        options = options_from(request.config)
    except ValueError as exc:
        pytest.fail(str(exc), pytrace=False)
    if "main" not in options.commands:
        pytest.fail(USAGE, pytrace=False)
    kit = Kit(options, tmp_path_factory.mktemp("asgi-server-kit"))
    try:
        yield kit
    finally:
        kit.close()


@pytest.fixture
def server_observe(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``server_observe("what the server did")``: an outcome where the spec leaves a choice."""

    def record(value: str) -> None:
        request.node.user_properties.append(("observed", value))

    return record


__all__ = [
    "USAGE",
    "options_from",
    "pytest_addoption",
    "pytest_configure",
    "server_kit",
    "server_observe",
]
