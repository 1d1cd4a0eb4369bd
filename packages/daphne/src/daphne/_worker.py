"""One worker process of ``daphne --workers N`` (``python -m daphne._worker``).

``python -m daphne._worker --control FD --listen ENDPOINT... [--cli module:Class] -- ARGS``
runs ``daphne ARGS`` (with ``--cli``'s command-line class, default daphne's own) on the
supervisor's sockets instead of the endpoints ARGS name. Invariants:

* the worker writes ``ready`` on the control socket once, after every endpoint listens (the
  server's ``ready_callable``); the supervisor replaces old workers only after that;
* the control socket closing means the supervisor is gone: the worker then stops as SIGTERM
  stops it (draining), so a killed supervisor leaves no worker behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence


def _arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    own, daphne_args = list(argv), []
    if "--" in own:
        split = own.index("--")
        own, daphne_args = own[:split], own[split + 1 :]
    parser = argparse.ArgumentParser(prog="python -m daphne._worker")
    parser.add_argument("--control", type=int, required=True)
    parser.add_argument("--listen", action="append", default=[], required=True)
    parser.add_argument("--cli", default="daphne.cli:CommandLineInterface")
    return parser.parse_args(own), daphne_args


def _stop_when_orphaned(control: socket.socket) -> None:
    def watch() -> None:
        try:
            while control.recv(64):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="daphne-supervisor-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> None:
    options, daphne_args = _arguments(sys.argv[1:] if argv is None else argv)
    control = socket.socket(fileno=options.control)
    _stop_when_orphaned(control)
    from ._appload import import_by_path

    cli = import_by_path(options.cli)()
    cli.inherited_endpoints = list(options.listen)

    def ready() -> None:
        try:
            control.sendall(b"ready\n")
        except OSError:
            pass  # the supervisor is gone; the watcher stops this worker

    cli.on_ready = ready
    try:
        cli.run(daphne_args)
    except argparse.ArgumentError as exc:
        cli.parser.error(str(exc))


if __name__ == "__main__":
    main()
