"""Fixtures: real daphne server processes on free ports, cached per configuration."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
if str(TESTS) not in sys.path:
    # The test apps are imported by path ("daphne_test_apps:app") in the server processes.
    sys.path.insert(0, str(TESTS))

# Each behaviour runs on two server stacks: the fast one (httptools on uvloop) and the plain
# one (the pure-Python parser on asyncio's own loop), so both parsers and both loops are covered.
STACKS = {
    "httptools-uvloop": {"use_httptools": True, "loop": "uvloop"},
    "python-asyncio": {"use_httptools": False, "loop": "asyncio"},
}


class ServerPool:
    """Starts one server process per distinct configuration and stops them all at the end."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._servers: dict[str, tuple[str, int]] = {}

    def get(self, app: str = "daphne_test_apps:app", **kwargs: object) -> tuple[str, int]:
        from daphne.testing import serve

        key = json.dumps([app, kwargs], sort_keys=True, default=str)
        if key not in self._servers:
            self._servers[key] = self._stack.enter_context(serve(app, **kwargs))
        return self._servers[key]

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def pool():
    servers = ServerPool()
    yield servers
    servers.close()


@pytest.fixture(params=list(STACKS))
def stack(request):
    """Server keyword arguments choosing the request parser and the event loop."""
    return STACKS[request.param]


@pytest.fixture
def server(pool, stack):
    """(host, port) of a default server, once per stack."""
    return pool.get(**stack)


@pytest.fixture
def record(tmp_path):
    path = tmp_path / "record.jsonl"

    class Recorder:
        query = f"record={path}"

        def events(self):
            if not path.exists():
                return []
            return [json.loads(line) for line in path.read_text().splitlines() if line]

    return Recorder()


def pytest_configure(config):
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")


def _raw_exchange(address, data, *, timeout=10.0, chunks=None):
    """Send raw bytes (or a list of byte chunks) and read until the server closes."""
    import socket

    with socket.create_connection(address, timeout=timeout) as sock:
        for piece in chunks if chunks is not None else [data]:
            sock.sendall(piece)
        received = b""
        while True:
            try:
                block = sock.recv(65536)
            except ConnectionResetError:
                break
            if not block:
                break
            received += block
        return received


@pytest.fixture
def raw():
    return _raw_exchange


def wait_for(predicate, limit=20.0):
    """Poll until ``predicate()`` is true; fail after ``limit`` seconds (a hang guard only)."""
    import time

    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {limit}s")
        time.sleep(0.02)


@pytest.fixture(name="wait_for")
def wait_for_fixture():
    return wait_for


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _cli_server(args, *, port=None, env=None, pass_fds=(), wait=True):
    """Run ``python -m daphne <args>`` and yield the Popen once it accepts connections."""
    import socket
    import subprocess
    import time

    environment = {**os.environ, "PYTHONPATH": str(TESTS), **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        pass_fds=pass_fds,
    )
    try:
        deadline = time.monotonic() + 30
        while wait and port is not None:
            if process.poll() is not None:
                raise AssertionError(f"daphne exited early: {process.communicate()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("daphne did not start listening") from None
                time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()  # graceful: lets the server flush logs and run lifespan shutdown
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        process.communicate()


@pytest.fixture
def cli_server():
    return _cli_server


@pytest.fixture(name="free_port")
def free_port_fixture():
    return free_port


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """(key path, certificate path): a self-signed P-256 certificate for 127.0.0.1."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_path = directory / "key.pem"
    cert_path = directory / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
