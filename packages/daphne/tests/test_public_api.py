"""Pins the public surface of daphne and checks imports have no side effects."""

from __future__ import annotations

import subprocess
import sys

import daphne
import daphne.access
import daphne.cli
import daphne.endpoints
import daphne.http_protocol
import daphne.server
import daphne.testing
import daphne.utils
import daphne.ws_protocol


def _django_modules():
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(INSTALLED_APPS=["daphne"])
        django.setup()
    import daphne.apps
    import daphne.checks
    import daphne.management.commands.runserver as runserver

    return {
        daphne.apps: ["DaphneConfig"],
        daphne.checks: ["check_daphne_installed"],
        runserver: ["Command", "get_default_application"],
    }


EXPECTED = {
    daphne: ["__version__"],
    daphne.access: ["AccessLogGenerator"],
    daphne.cli: ["CommandLineInterface"],
    daphne.endpoints: ["build_endpoint_description_strings"],
    daphne.http_protocol: ["HTTPFactory", "WebRequest"],
    daphne.server: ["Server", "twisted_loop"],
    daphne.testing: [
        "BaseDaphneTestingInstance",
        "DaphneProcess",
        "DaphneTestingInstance",
        "ImportStringApplication",
        "TestApplication",
        "serve",
    ],
    daphne.utils: ["header_value", "import_by_path", "parse_x_forwarded_for"],
    daphne.ws_protocol: ["WebSocketFactory", "WebSocketProtocol"],
}


def test_exported_members():
    for module, names in {**EXPECTED, **_django_modules()}.items():
        assert sorted(module.__all__) == sorted(names), module.__name__
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_importing_public_modules_installs_no_reactor_and_no_loop():
    code = (
        "import sys, asyncio, warnings\n"
        "import daphne, daphne.server, daphne.cli, daphne.testing, daphne.access, "
        "daphne.endpoints, daphne._connection, daphne._websocket, daphne._http2, "
        "daphne.http_protocol, daphne.ws_protocol, daphne.utils\n"
        "assert 'twisted.internet.reactor' not in sys.modules, 'reactor installed at import'\n"
        "import asyncio.events\n"
        "assert asyncio.events._get_running_loop() is None\n"
        "policy = asyncio.get_event_loop_policy()\n"
        "assert policy._local._loop is None, 'event loop created at import'\n"
        "print('clean')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "clean", out.stderr


def test_version_is_a_string():
    assert isinstance(daphne.__version__, str) and daphne.__version__.count(".") == 2
