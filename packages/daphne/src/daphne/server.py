"""The daphne server, usable from Python as ``Server(application, endpoints).run()``."""

from ._server import Server

__all__ = ["Server"]
