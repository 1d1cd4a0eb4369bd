"""The reactor daphne installs: asyncio-backed, and a failing protocol only loses its own
connection (the lean read path keeps Twisted's error handling)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import socket, threading
from daphne._reactor import install_asyncio_reactor
reactor = install_asyncio_reactor()
assert install_asyncio_reactor() is reactor  # reused, not replaced
from twisted.internet import protocol

class Boom(protocol.Protocol):
    def dataReceived(self, data):
        if data.startswith(b"boom"):
            raise RuntimeError("protocol bug")
        self.transport.write(b"ok:" + data)

factory = protocol.ServerFactory.forProtocol(Boom)
port = reactor.listenTCP(0, factory, interface="127.0.0.1")
number = port.getHost().port
results = []

def client():
    for payload in (b"boom", b"fine"):
        with socket.create_connection(("127.0.0.1", number), timeout=10) as sock:
            sock.sendall(payload)
            results.append(sock.recv(100))
    reactor.callFromThread(reactor.stop)

threading.Thread(target=client).start()
reactor.run(installSignalHandlers=False)
print(results)
"""


def test_protocol_error_drops_only_that_connection():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "[b'', b'ok:fine']", result.stderr
    assert "protocol bug" in result.stderr  # logged, not swallowed
