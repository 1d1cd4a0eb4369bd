"""A ``daphne`` command line whose server only records the keyword arguments it was given."""

from __future__ import annotations

from daphne.cli import CommandLineInterface


class RecordingServer:
    """A ``server_class`` with upstream's constructor contract: keyword arguments only."""

    abort_start = False

    def __init__(self, **kwargs):
        self.init_kwargs = kwargs

    def run(self):
        pass


class RecordingCLI(CommandLineInterface):
    server_class = RecordingServer


def server_kwargs(*args):
    """What ``daphne <args> daphne_test_apps:app`` hands its server."""
    cli = RecordingCLI()
    cli.run(["daphne_test_apps:app", *args])  # first: --ws-protocol takes every word after it
    return cli.server.init_kwargs
