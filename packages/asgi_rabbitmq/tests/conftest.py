"""Shared fixtures: the real RabbitMQ broker these tests need.

The broker is 127.0.0.1:5672 (guest/guest) unless ASGI_RABBITMQ_URL says
otherwise. A missing broker fails every test with the command that starts one;
nothing is skipped.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgi_rabbitmq.core import RabbitmqChannelLayer

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def broker_url() -> str:
    return os.environ.get("ASGI_RABBITMQ_URL", DEFAULT_URL)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rabbitmq_node: starts its own RabbitMQ node")


@pytest.fixture(scope="session", autouse=True)
def _broker_is_up() -> None:
    parts = urlsplit(broker_url())
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        pytest.fail(
            f"RabbitMQ is not reachable at {host}:{port} ({exc}). Start it with "
            "`rabbitmq-server -detached` (or set ASGI_RABBITMQ_URL to a running broker).",
            pytrace=False,
        )


@pytest.fixture
def broker() -> str:
    """The AMQP URL of the shared test broker."""
    return broker_url()


@pytest.fixture
def prefix() -> str:
    """Queue and exchange names unique to one test, safe on a shared broker."""
    return f"t{secrets.token_hex(4)}"


@pytest.fixture
async def make_layer(prefix: str) -> AsyncIterator[Callable[..., RabbitmqChannelLayer]]:
    """Build layers on the test broker; each is flushed and closed afterwards."""
    layers: list[RabbitmqChannelLayer] = []

    def factory(**kwargs: Any) -> RabbitmqChannelLayer:
        kwargs.setdefault("host", broker_url())
        kwargs.setdefault("prefix", prefix)
        layer = RabbitmqChannelLayer(**kwargs)
        layers.append(layer)
        return layer

    yield factory
    for layer in layers:
        try:
            if layer._links:
                await layer.flush()
        finally:
            await layer.close()


class RabbitNode:
    """A throw-away RabbitMQ node on its own ports, for tests that restart a broker.

    It shares nothing with the broker at 5672 but epmd, so restarting it never
    disturbs other users of the shared broker.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.amqp_port, self.dist_port, self.tls_port = _free_port(), _free_port(), _free_port()
        self.name = f"asgitest{secrets.token_hex(3)}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"
        self.tls_url = f"amqps://guest:guest@127.0.0.1:{self.tls_port}/%2F"
        self.ca_file = base / "tls" / "ca.pem"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
        }

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["rabbitmqctl", "-n", self.name, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def start(self) -> None:
        for sub in ("mnesia", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "enabled_plugins").write_text("[].\n")
        # The packaged config pins the shared broker's listener; ours overrides it.
        tls = _write_tls_files(self.base / "tls")
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.amqp_port}\n"
            f"listeners.ssl.local = 127.0.0.1:{self.tls_port}\n"
            f"ssl_options.cacertfile = {tls['ca']}\n"
            f"ssl_options.certfile = {tls['cert']}\n"
            f"ssl_options.keyfile = {tls['key']}\n"
            "ssl_options.verify = verify_none\n"
            "ssl_options.fail_if_no_peer_cert = false\n"
        )
        self.base.chmod(0o755)
        if os.geteuid() == 0:  # rabbitmq-server drops to the rabbitmq user
            for path in [self.base, *self.base.rglob("*")]:
                shutil.chown(path, "rabbitmq", "rabbitmq")
        if shutil.which("rabbitmq-server") is None:
            pytest.fail("rabbitmq-server is not installed; install the rabbitmq-server package")
        if os.geteuid() != 0 and _rabbitmq_user_exists() and getpass.getuser() != "rabbitmq":
            # The Debian wrapper switches to the rabbitmq user with su, which
            # would prompt for a password here.
            pytest.fail(
                "the private RabbitMQ node is started through rabbitmq-server, which switches "
                "to the rabbitmq user: run these tests as root or as rabbitmq"
            )
        subprocess.run(["rabbitmq-server", "-detached"], env=self._env(), check=True, timeout=60)
        self.wait_until_serving()

    def wait_until_serving(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                for port in (self.amqp_port, self.tls_port):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        log = "\n".join(p.read_text()[-2000:] for p in (self.base / "log").glob("*.log"))
        pytest.fail(f"the test RabbitMQ node {self.name} did not start:\n{log}")

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        # The listener port can linger for a moment after stop_app (eaddrinuse).
        deadline = time.monotonic() + 60
        while self.ctl("start_app", check=False).returncode != 0:
            if time.monotonic() > deadline:
                pytest.fail(f"start_app on {self.name} kept failing")
            time.sleep(1)
        self.wait_until_serving()

    def stop(self) -> None:
        self.ctl("stop", check=False)


def _rabbitmq_user_exists() -> bool:
    import pwd

    try:
        pwd.getpwnam("rabbitmq")
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _write_tls_files(directory: Path) -> dict[str, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "asgi_rabbitmq test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # Python 3.13's default context verifies with X509_STRICT, which wants key
        # identifiers on both certificates and key usages that fit a CA and a server.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {name: directory / f"{name}.pem" for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="session")
def rabbit_node() -> Iterator[RabbitNode]:
    """A private RabbitMQ node (plain and TLS listeners), removed after the session."""
    base = Path(tempfile.mkdtemp(prefix="asgi-rabbitmq-node-"))
    node = RabbitNode(base)
    try:
        node.start()
        yield node
    finally:
        node.stop()
        shutil.rmtree(base, ignore_errors=True)
