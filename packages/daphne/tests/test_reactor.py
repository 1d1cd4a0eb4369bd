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


CLOSE_SCRIPT = r"""
import socket, threading
from daphne._reactor import install_asyncio_reactor
reactor = install_asyncio_reactor()
from twisted.internet import protocol, tcp
from twisted.internet.error import ConnectionDone

events = []

class Echo(protocol.Protocol):
    def connectionMade(self):
        # A TCP connection: read by the reactor's one-call path (_read_tcp).
        events.append(("tcp", isinstance(self.transport, tcp.Connection)))

    def dataReceived(self, data):
        events.append(("data", data))
        self.transport.write(data.upper())

    def connectionLost(self, reason):
        events.append(("lost", reason.check(ConnectionDone) is not None))
        reactor.callLater(0, reactor.stop)

port = reactor.listenTCP(0, protocol.ServerFactory.forProtocol(Echo), interface="127.0.0.1")
number = port.getHost().port
answers = []

def client():
    with socket.create_connection(("127.0.0.1", number), timeout=10) as sock:
        sock.sendall(b"abc")
        answers.append(sock.recv(100))

threading.Thread(target=client).start()
reactor.run(installSignalHandlers=False)
print(answers, events)
"""


def test_reads_deliver_data_and_a_clean_close_is_connection_done():
    result = subprocess.run(
        [sys.executable, "-c", CLOSE_SCRIPT], capture_output=True, text=True, timeout=60
    )
    expected = "[b'ABC'] [('tcp', True), ('data', b'abc'), ('lost', True)]"
    assert result.stdout.strip() == expected, result.stderr
