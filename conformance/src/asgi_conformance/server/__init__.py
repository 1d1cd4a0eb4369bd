"""The ASGI server conformance kit: run it against any ASGI server with one command.

    pytest --pyargs asgi_conformance.server --server-cmd "uvicorn --port {port} {app}"

or ``python -m asgi_conformance.server --cmd "..."``. The kit starts the server with
its own application (``asgi_conformance.server.app``), drives it over real sockets on
127.0.0.1, and checks HTTP/1.1, ASGI HTTP, WebSocket, lifespan, proxy headers and
resource behaviour. See conformance/README.md for the options and claims.
"""

from ._kit import CLAIMS, COMMANDS
from .app import APP, FAILING_STARTUP_APP, NO_LIFESPAN_APP

__all__ = ["APP", "CLAIMS", "COMMANDS", "FAILING_STARTUP_APP", "NO_LIFESPAN_APP"]
