"""Real Redis servers for the asgi_redis tests.

The shared server (127.0.0.1:6379, or ``ASGI_REDIS_URL``) is used with a prefix
unique to each test, never flushed wholesale. Extra servers (a second shard, a
Sentinel setup, a three-node Cluster, a restartable server for chaos tests) are
started by the session on free ports in their own temp dirs and killed at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

START_HINT = (
    'start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log "
    "(or point ASGI_REDIS_URL at a server)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "topology: runs against several Redis topologies")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A free port whose cluster bus port (+10000) is free and valid too."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port > 55000:
            port = 20000 + port % 30000
        if _is_free(port) and _is_free(port + 10000):
            return port


def wait_until(check: Any, what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:
            last = exc
        time.sleep(0.05)
    raise RuntimeError(f"Timed out waiting for {what} (last error: {last!r})")


class RedisServer:
    """One redis-server process on its own port and directory."""

    def __init__(self, root: Path, name: str, *args: str, sentinel: bool = False) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not on PATH; install it (apt-get install redis-server)")
        self.port = free_port()
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.args = list(args)
        self.sentinel = sentinel
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.sentinel:
            conf = self.dir / "sentinel.conf"
            conf.write_text(f"port {self.port}\nbind 127.0.0.1\n" + "\n".join(self.args) + "\n")
            command = ["redis-server", str(conf), "--sentinel"]
        else:
            command = [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.dir), *self.args,
            ]  # fmt: skip
        log = open(self.dir / "server.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            wait_until(self.ping, f"redis-server on port {self.port}")
        except RuntimeError:
            self.kill()
            raise

    def ping(self) -> bool:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("ASGI_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {url} ({exc}); {START_HINT}")
    finally:
        client.close()
    return url


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test (or engineer) uses."""
    return f"t{os.getpid()}x{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def servers_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("asgi_redis_servers")


@pytest.fixture(scope="session")
def second_shard(servers_root: Path) -> Iterator[RedisServer]:
    server = RedisServer(servers_root, "shard2")
    yield server
    server.kill()


@pytest.fixture(scope="session")
def sentinel_setup(servers_root: Path) -> Iterator[dict[str, Any]]:
    master = RedisServer(servers_root, "sentinel-master")
    replica = RedisServer(
        servers_root, "sentinel-replica", "--replicaof", "127.0.0.1", str(master.port)
    )
    sentinel = RedisServer(
        servers_root,
        "sentinel",
        f"sentinel monitor asgimaster 127.0.0.1 {master.port} 1",
        "sentinel down-after-milliseconds asgimaster 5000",
        sentinel=True,
    )
    client = sentinel.client()
    wait_until(
        lambda: client.execute_command("SENTINEL", "get-master-addr-by-name", "asgimaster"),
        "the sentinel to know its master",
    )
    client.close()
    yield {
        "sentinels": [("127.0.0.1", sentinel.port)],
        "master_name": "asgimaster",
        "sentinel_kwargs": {"socket_timeout": 2},
    }
    for server in (sentinel, replica, master):
        server.kill()


@pytest.fixture(scope="session")
def cluster_setup(servers_root: Path) -> Iterator[list[RedisServer]]:
    nodes = [
        RedisServer(
            servers_root, f"cluster{index}", "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
        )
        for index in range(3)
    ]  # fmt: skip
    try:
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in nodes),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

        def ready() -> bool:
            for node in nodes:
                client = node.client()
                try:
                    info = client.execute_command("CLUSTER", "INFO")
                finally:
                    client.close()
                text = info.decode() if isinstance(info, bytes) else str(info)
                if "cluster_state:ok" not in text:
                    return False
            return True

        wait_until(ready, "the cluster to reach cluster_state:ok", timeout=30)
        yield nodes
    finally:
        for node in nodes:
            node.kill()


@pytest.fixture(params=["single", "sharded", "sentinel", "cluster"])
def topology(request: pytest.FixtureRequest, redis_url: str) -> dict[str, Any]:
    """``hosts`` (and extra options) for one of the four supported topologies."""
    name = request.param
    if name == "single":
        return {"hosts": [redis_url]}
    if name == "sharded":
        shard: RedisServer = request.getfixturevalue("second_shard")
        return {"hosts": [redis_url, shard.url]}
    if name == "sentinel":
        return {"hosts": [request.getfixturevalue("sentinel_setup")]}
    nodes: list[RedisServer] = request.getfixturevalue("cluster_setup")
    return {"hosts": [{"cluster": [("127.0.0.1", node.port) for node in nodes]}]}


@pytest.fixture
async def layers(topology: dict[str, Any], prefix: str) -> AsyncIterator[Any]:
    """``layers(cls, **overrides)`` builds a layer on the current topology; all are
    flushed and closed at teardown."""
    made: list[Any] = []

    async def make(cls: Any, **overrides: Any) -> Any:
        layer = cls(**{**topology, "prefix": prefix, **overrides})
        made.append(layer)
        return layer

    yield make
    for layer in made:
        await layer.flush()
        await layer.close()


@pytest.fixture
def restartable(servers_root: Path) -> Iterator[RedisServer]:
    """A private server the chaos tests may kill and restart on the same port."""
    server = RedisServer(servers_root, f"chaos-{secrets.token_hex(3)}")
    yield server
    server.kill()


CancelSafety = Callable[..., Awaitable[None]]


async def _receives_survive_cancellation(
    layer: Any, channel: str, *, rounds: int, spins: int, send_every: int, sleeps: int
) -> None:
    """Cancel receives of *channel* at many points (before, during and after a delivery,
    with a send every *send_every* rounds): every message still arrives, in order."""
    sent = 0
    received: list[int] = []
    for round_ in range(rounds):
        task = asyncio.ensure_future(layer.receive(channel))
        for _ in range(round_ % spins):
            await asyncio.sleep(0)
        if round_ % send_every == 0:
            await layer.send(channel, {"type": "n", "n": sent})
            sent += 1
        await asyncio.sleep(0.001 * (round_ % sleeps))
        task.cancel()
        try:
            received.append((await task)["n"])
        except asyncio.CancelledError:
            pass
    while len(received) < sent:
        received.append((await asyncio.wait_for(layer.receive(channel), 5))["n"])
    assert received == list(range(sent)), channel


@pytest.fixture
def receives_survive_cancellation() -> CancelSafety:
    return _receives_survive_cancellation
