"""The one task runner for the monorepo.

The matrix is data, right below. ``nox --list`` shows every session;
``nox -t ci`` runs the default CI selection (what ``scripts/test`` runs);
everything else is runnable by name, e.g.::

    nox -s "tests(channels, py3.13, django6.1)"
    nox -s "conformance(redis)"
    nox -s "django(6.1)"
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import nox

# --------------------------------------------------------------------------- the matrix
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
DEFAULT_PYTHON = "3.11"

#: Django series -> the Pythons that series supports.
DJANGOS = {
    "4.2": ["3.10", "3.11", "3.12"],
    "5.2": ["3.10", "3.11", "3.12", "3.13"],
    "6.0": ["3.12", "3.13"],
    "6.1": ["3.12", "3.13"],
}

#: package -> (source dir, needs Django, extra local packages its tests install)
PACKAGES: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "asgiref": ("packages/asgiref", False, ("conformance",)),
    "channels": ("packages/channels", True, ("packages/daphne",)),
    "daphne": ("packages/daphne", True, ()),
    "asgi_redis": ("packages/asgi_redis", False, ("conformance",)),
    "asgi_rabbitmq": ("packages/asgi_rabbitmq", False, ("conformance",)),
    "asgi_ipc": ("packages/asgi_ipc", False, ("conformance",)),
    "conformance": ("conformance", False, ()),
}

#: conformance backend -> (package dir, pytest selection inside its tests)
BACKENDS = {
    "memory": ("conformance", "conformance/tests"),
    "redis": ("packages/asgi_redis", "packages/asgi_redis/tests"),
    "rabbitmq": ("packages/asgi_rabbitmq", "packages/asgi_rabbitmq/tests"),
    "ipc": ("packages/asgi_ipc", "packages/asgi_ipc/tests"),
}

#: The Django series used by the CI selection for Django-facing packages.
CI_DJANGO = {"3.11": "5.2", "3.13": "6.1"}

#: What every pytest session needs, whatever the package.
TEST_DEPS = ["pytest>=8", "pytest-asyncio>=0.24", "pytest-timeout>=2", "hypothesis>=6"]

ROOT = Path(__file__).parent
REPORTS = ROOT / ".ci-reports"

nox.options.error_on_missing_interpreters = True
nox.options.default_venv_backend = "venv"
nox.options.sessions = []  # nothing runs by accident; use -t ci or -s NAME


def _add_pyenv_interpreters() -> None:
    """Let nox find pyenv's interpreters (python3.10 ... python3.13) on PATH."""
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    dirs = []
    for version in PYTHONS:
        found = sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin"))
        if found:
            dirs.append(found[-1])
    os.environ["PATH"] = os.pathsep.join([*dirs, os.environ.get("PATH", "")])


_add_pyenv_interpreters()


# --------------------------------------------------------------------------- helpers
def _install_local(session: nox.Session, *targets: str, django: str | None = None) -> None:
    """Install our asgiref and the given local packages (never PyPI's asgiref)."""
    args = ["./packages/asgiref", *targets, *TEST_DEPS]
    if django:
        args.append(f"django~={django}.0")
    session.install(*args)
    out = session.run(
        "python", "-c", "import asgiref, sys; sys.stdout.write(asgiref.__file__)", silent=True
    )
    if "site-packages/asgiref" not in str(out):
        session.error(f"asgiref was not installed from packages/asgiref: {out}")
    version = session.run(
        "python", "-c", "import asgiref, sys; sys.stdout.write(asgiref.__version__)", silent=True
    )
    expected = _version_of("packages/asgiref/src/asgiref/__init__.py")
    if str(version).strip() != expected:
        session.error(f"expected our asgiref {expected}, found {version}")


def _version_of(path: str) -> str:
    for line in (ROOT / path).read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise RuntimeError(f"no __version__ in {path}")


def _with_tests_extra(path: str) -> str:
    return f"./{path}[tests]" if _has_tests_extra(path) else f"./{path}"


def _has_tests_extra(path: str) -> bool:
    text = (ROOT / path / "pyproject.toml").read_text()
    return "\ntests = [" in text or "\ntests=[" in text


def _pytest(session: nox.Session, name: str, *args: str) -> None:
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / f"{name}.xml"
    session.run(
        "pytest",
        f"--junitxml={report}",
        "-p",
        "no:cacheprovider",
        *args,
        *session.posargs,
    )


def _combos() -> list[nox.param]:
    combos = []
    for package, (_, needs_django, _) in PACKAGES.items():
        for python in PYTHONS:
            if needs_django:
                for django, pythons in DJANGOS.items():
                    if python in pythons:
                        tags = ["ci"] if CI_DJANGO.get(python) == django else []
                        combos.append(
                            nox.param(
                                python,
                                package,
                                django,
                                id=f"{package}, py{python}, django{django}",
                                tags=tags,
                            )
                        )
            else:
                tags = ["ci"] if python == DEFAULT_PYTHON else []
                combos.append(
                    nox.param(python, package, None, id=f"{package}, py{python}", tags=tags)
                )
    return combos


# --------------------------------------------------------------------------- sessions
@nox.session
@nox.parametrize(("python", "package", "django"), _combos())
def tests(session: nox.Session, package: str, django: str | None) -> None:
    """A package's test suite on one Python (and Django) version."""
    path, _, extras = PACKAGES[package]
    # Siblings go in without extras: pip 23 cannot combine "./x[tests]" with another
    # package's requirement on x.
    targets = [_with_tests_extra(path), *(f"./{e}" for e in extras)]
    _install_local(session, *targets, django=django)
    name = f"tests-{package}-py{session.python}" + (f"-dj{django}" if django else "")
    _pytest(session, name, f"{path}/tests", "-m", "not slow")


@nox.session(python=DEFAULT_PYTHON)
@nox.parametrize("backend", [nox.param(b, id=b) for b in BACKENDS])
def conformance(session: nox.Session, backend: str) -> None:
    """The channel-layer conformance suite against one backend.

    Not tagged ci: each backend's own ``tests`` session already runs its conformance subclass.
    """
    path, selection = BACKENDS[backend]
    targets = (
        [_with_tests_extra(path)]
        if backend == "memory"
        else [_with_tests_extra(path), "./conformance"]
    )
    _install_local(session, *targets)
    if backend == "memory":
        _pytest(session, f"conformance-{backend}", selection)
    else:
        _pytest(session, f"conformance-{backend}", selection, "-k", "onformance")


@nox.session(python=DEFAULT_PYTHON, tags=["ci"])
def lint(session: nox.Session) -> None:
    """ruff format --check and ruff check over the whole tree."""
    session.install("ruff==0.17.6")  # pinned: formatting must not drift
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session(python=DEFAULT_PYTHON, tags=["ci"])
def typecheck(session: nox.Session) -> None:
    """mypy (strict, from pyproject.toml) on each package's source, one package at a time."""
    # daphne's optional fast paths (httptools, HTTP/2) are type-checked too.
    session.install("mypy==2.4.1", "django-stubs>=5", "httptools", "uvloop", "twisted[tls,http2]")
    paths = [p for p, _, _ in PACKAGES.values()]
    _install_local(session, *(f"./{p}" for p in paths if p != "packages/asgiref"), django="5.2")
    for path in paths:
        src = ROOT / path / "src"
        # strict comes from pyproject.toml, which also tolerates ignores that only some
        # Django-stubs versions need (warn_unused_ignores = false).
        session.run("mypy", str(src.relative_to(ROOT)))


@nox.session(python=DEFAULT_PYTHON, tags=["ci"])
def imports(session: nox.Session) -> None:
    """Dependency-direction contracts (import-linter)."""
    session.install("import-linter==2.16")
    paths = [p for p, _, _ in PACKAGES.values() if p != "packages/asgiref"]
    _install_local(session, *(f"./{p}" for p in paths), django="5.2")
    session.run("lint-imports", "--config", "pyproject.toml")


@nox.session(python=DEFAULT_PYTHON, tags=["ci"])
def build(session: nox.Session) -> None:
    """Build sdist + wheel per package; install each wheel alone in a clean venv and import it."""
    session.install("build>=1")
    session.run("python", "scripts/check_builds.py", *session.posargs)


@nox.session(tags=["ci"])
@nox.parametrize(
    ("python", "django"),
    [nox.param("3.12", "5.2", id="5.2"), nox.param("3.13", "6.1", id="6.1")],
)
def django(session: nox.Session, django: str) -> None:
    """Django's own ASGI/async test modules, run from its sdist against our asgiref."""
    session.run(
        "python", "scripts/django_tests.py", "--django", django, *session.posargs, external=True
    )


@nox.session(python=DEFAULT_PYTHON, tags=["ci"])
def compat(session: nox.Session) -> None:
    """Upstream's own suites (asgiref, daphne, channels_redis) against our packages.

    The runner comes from ``../shared/compat`` (or ``COMPAT_DIR``); the floors and the rule
    that every difference is written down in docs/compatibility.md live in scripts/compat.py.
    ``nox -s compat -- daphne`` runs one suite.
    """
    REPORTS.mkdir(exist_ok=True)
    session.run(
        "python",
        "scripts/compat.py",
        "--junit",
        str(REPORTS / "compat.xml"),
        *session.posargs,
        external=True,
    )


#: channels.tasks (django.tasks, Django 6.0+): Django series -> Python. On 5.2 the same
#: selection checks the ImportError that names the requirement.
TASKS_DJANGOS = {"5.2": "3.11", "6.0": "3.12", "6.1": "3.13"}


@nox.session
@nox.parametrize(
    ("python", "django"),
    [
        nox.param(py, dj, id=dj, tags=["ci"] if dj == CI_DJANGO["3.13"] else [])
        for dj, py in TASKS_DJANGOS.items()
    ],
)
def tasks(session: nox.Session, django: str) -> None:
    """channels.tasks over the in-memory, Redis and IPC layers with real runworker processes.

    Needs Redis on 127.0.0.1:6379 (or ASGI_REDIS_URL); the tests fail, never skip, without it.
    """
    targets = ["./packages/channels[tests]", "./packages/asgi_redis", "./packages/asgi_ipc"]
    _install_local(session, *targets, "./packages/daphne", django=django)
    _pytest(session, f"tasks-dj{django}", "packages/channels/tests/tasks")


@nox.session(python=DEFAULT_PYTHON, tags=["ci"])
def gateway(session: nox.Session) -> None:
    """daphne's gateway mode with real processes: rolling deploys, a SIGKILL.

    Redis (the 30-client deploy and the SIGKILL), IPC and RabbitMQ (smaller deploys). Needs
    Redis on 127.0.0.1:6379 and RabbitMQ on 127.0.0.1:5672; the tests fail, never skip,
    without them.
    """
    targets = [
        "./packages/channels[tests]",
        "./packages/asgi_redis",
        "./packages/asgi_ipc",
        "./packages/asgi_rabbitmq",
    ]
    _install_local(session, *targets, "./packages/daphne", django=CI_DJANGO[DEFAULT_PYTHON])
    tests = "packages/channels/tests"
    _pytest(
        session, "gateway", f"{tests}/test_gateway_deploy.py", f"{tests}/test_gateway_consumers.py"
    )


#: The chat demo runs on Django 4.2+; its background task (django.tasks) needs 6.0+.
#: Django series -> Python, both in CI: 5.2 proves the demo without tasks, 6.1 with them.
EXAMPLES_DJANGOS = {"5.2": DEFAULT_PYTHON, "6.1": "3.13"}


@nox.session(tags=["ci"])
@nox.parametrize(
    ("python", "django"), [nox.param(py, dj, id=dj) for dj, py in EXAMPLES_DJANGOS.items()]
)
def examples(session: nox.Session, django: str) -> None:
    """The chat demo: HTTP + WebSocket tests and the headless-Chromium browser test."""
    targets = [
        "./packages/channels",
        "./packages/daphne",
        "./packages/asgi_redis",
        "./packages/asgi_rabbitmq",
        "./packages/asgi_ipc",
    ]
    if (ROOT / "examples/chat/requirements-test.txt").exists():
        session.install("-r", "examples/chat/requirements-test.txt")
    _install_local(session, *targets, django=django)
    _pytest(session, f"examples-chat-dj{django}", "examples/chat/tests")


@nox.session(python=DEFAULT_PYTHON)
def bench(session: nox.Session) -> None:
    """Every benchmark in bench/, once each, side by side with its peers (slow; not in CI).

    Skipped (:data:`_NOT_BENCHMARKS`): bench/goals.py, which re-runs the goals' benchmarks N
    times for the goal table and so would run most of them again; daphne_ab.py, which needs
    ``--ref``; the gateway benchmark's app and settings modules. ``nox -s bench -- goals``
    runs only bench/goals.py in this session's environment (further arguments are its own,
    e.g. ``nox -s bench -- goals --runs 3``).
    """
    _bench_environment(session)
    if session.posargs[:1] == ["goals"]:
        session.run("python", "bench/goals.py", *session.posargs[1:])
        return
    for script in sorted((ROOT / "bench").glob("[!_]*.py")):  # _name.py: shared helpers
        if script.name not in _NOT_BENCHMARKS:
            session.run("python", str(script.relative_to(ROOT)))


def _bench_environment(session: nox.Session) -> None:
    """The benchmarks' peers and our packages (matplotlib draws the charts of bench/_results)."""
    session.install(
        "uvicorn[standard]", "hypercorn", "websockets", "redis", "aio-pika", "matplotlib"
    )
    targets = [f"./{p}" for p, _, _ in PACKAGES.values() if p != "packages/asgiref"]
    _install_local(session, *targets, django="5.2")


@nox.session(python=DEFAULT_PYTHON, tags=["ci"])
def bench_tests(session: nox.Session) -> None:
    """The benchmarks' own tests (about a minute): the goal table reads what each benchmark
    writes, and the headline benchmark's smoke mode runs end to end and checks delivery.
    They assert what a run produced, never how fast. Needs Redis on 127.0.0.1:6379."""
    _bench_environment(session)
    session.run(
        "python", "-m", "pytest", "bench/tests", "bench/chat_broadcast",
        "-p", "no:cacheprovider", "-q", *session.posargs,
        env={"MYPYPATH": "bench"},
    )  # fmt: skip


#: bench/ scripts that ``nox -s bench`` does not run on its own (see its docstring).
_NOT_BENCHMARKS = {"goals.py", "daphne_ab.py", "gateway_bench_app.py", "gateway_bench_site.py"}


#: The docs site builds where every public module imports: channels.tasks needs Django 6.0+.
DOCS_PYTHON, DOCS_DJANGO = "3.13", "6.1"


@nox.session(python=DOCS_PYTHON, tags=["ci"])
def docs(session: nox.Session) -> None:
    """Build the documentation site (offline, warnings are errors) and test the built site.

    Output in docs/_build/html. The tests (docs/tests) check internal links and anchors,
    run the runnable code blocks, match the reference against every ``__all__``, and open
    the site in headless Chromium (screenshots in .ci-reports/docs-screenshots/).
    ``nox -s docs -- -k links`` passes arguments to pytest.
    """
    session.install("-r", "docs/requirements.txt")
    packages = [f"./{p}" for p, _, _ in PACKAGES.values() if p != "packages/asgiref"]
    _install_local(session, *packages, django=DOCS_DJANGO)
    build = ROOT / "docs" / "_build"
    session.run(
        "sphinx-build",
        *("-b", "html", "-W", "--keep-going", "-n", "-q"),
        *("-d", str(build / "doctrees"), "docs", str(build / "html")),
    )
    _pytest(session, "docs", "docs/tests")


# --------------------------------------------------------------------------- server kit
# --require-host: daphne's RFC 9112 3.2 mode; by default it serves HTTP/1.1 without Host as
# Daphne 4 did (docs/compatibility.md), which the kit's Host check counts as a failure.
_DAPHNE = "{python} -m daphne --websocket-per-message-deflate --require-host"
_DAPHNE_TLS = "-e ssl:port={port}:interface={host}:privateKey={keyfile}:certKey={certfile} {app}"
_UVICORN = "{python} -m uvicorn --host {host} --port {port}"
_DAPHNE_CLAIMS = "websocket,lifespan,websocket_denial,deflate"
_UVICORN_CLAIMS = "websocket,lifespan,websocket_denial,deflate"

#: server-conformance configuration -> kit options (see conformance/README.md). Each
#: --*-cmd is a command template; a missing proxy command makes those checks "n/s".
SERVER_KIT: dict[str, dict[str, str]] = {
    **{
        f"daphne-{parser}{'-tls' if tls else ''}": {
            "cmd": f"{_DAPHNE} --http-parser {parser} --loop {loop} {where}",
            "proxy-cmd": f"{_DAPHNE} --http-parser {parser} --loop {loop} --proxy-headers {where}",
            "untrusted-proxy-cmd": f"{_DAPHNE} --http-parser {parser} --loop {loop} "
            f"--proxy-headers --proxy-trusted-ips 10.255.255.255 {where}",
            "claims": _DAPHNE_CLAIMS + (",tls,http2" if tls else ""),
            "head-timeout": "35",
        }
        for parser, loop in (("httptools", "uvloop"), ("python", "asyncio"))
        for tls, where in ((False, "-b {host} -p {port} {app}"), (True, _DAPHNE_TLS))
    },
    **{
        f"uvicorn-{http}-{ws}": {
            "cmd": f"{_UVICORN} --http {http} --ws {ws} --no-proxy-headers {{app}}",
            "proxy-cmd": f"{_UVICORN} --http {http} --ws {ws} --proxy-headers "
            "--forwarded-allow-ips 127.0.0.1 {app}",
            "untrusted-proxy-cmd": f"{_UVICORN} --http {http} --ws {ws} --proxy-headers "
            "--forwarded-allow-ips 10.255.255.255 {app}",
            "claims": _UVICORN_CLAIMS,
            "head-timeout": "20",
        }
        for http in ("httptools", "h11")
        for ws in ("websockets", "wsproto")
    },
    **{
        f"hypercorn{'-tls' if tls else ''}": {
            "cmd": "{python} -m hypercorn --bind {host}:{port} "
            + ("--certfile {certfile} --keyfile {keyfile} " if tls else "")
            + "{app}",
            "claims": "websocket,lifespan,websocket_denial,deflate" + (",tls,http2" if tls else ""),
            "head-timeout": "20",
        }
        for tls in (False, True)
    },
    "granian": {
        "cmd": "granian --interface asgi --host {host} --port {port} {app}",
        "claims": "websocket,lifespan,pathsend",
        "head-timeout": "20",
    },
}
#: The peers' packages, installed one at a time (a peer that does not install is left out).
SERVER_PEERS = {
    "uvicorn": "uvicorn[standard] wsproto",
    "hypercorn": "hypercorn",
    "granian": "granian",
}


@nox.session(name="server-conformance", python=DEFAULT_PYTHON)
def server_conformance(session: nox.Session) -> None:
    """The ASGI server conformance kit against daphne and its peers -> docs/server-conformance.md.

    ``nox -s server-conformance -- daphne`` runs only the configurations whose name starts
    with "daphne" (any prefix works); arguments starting with "-" go to pytest. The table
    records failures; the session fails only if the kit itself could not run.
    """
    prefixes = [arg for arg in session.posargs if not arg.startswith("-")]
    pytest_args = [arg for arg in session.posargs if arg.startswith("-")]
    chosen = [n for n in SERVER_KIT if not prefixes or n.startswith(tuple(prefixes))]
    _install_local(session, "./conformance[server]", "./packages/daphne[fast,http2]")
    for peer, requirement in SERVER_PEERS.items():
        if any(name.startswith(peer) for name in chosen):
            try:
                session.install(*requirement.split())
            except nox.command.CommandFailed:
                session.warn(f"{peer} does not install here; its columns are left out")
                chosen = [name for name in chosen if not name.startswith(peer)]
    reports = []
    for name in chosen:
        report = REPORTS / "server-conformance" / f"{name}.json"
        options = [f"--{key}={value}" for key, value in SERVER_KIT[name].items()]
        args = ["-m", "asgi_conformance.server", f"--name={name}", f"--report={report}"]
        session.run("python", *args, *options, *pytest_args, success_codes=[0, 1])
        reports.append(str(report))
    out = str(ROOT / "docs" / "server-conformance.md")
    session.run("python", "-m", "asgi_conformance.server.matrix", "--out", out, *reports)


#: The kit configurations CI holds daphne to: every check must pass (the others are in
#: the matrix above). Over TLS only the httptools stack: the parsers behave the same there,
#: and one TLS run (about a minute on 2 cores) covers close_notify, half-close and HTTP/2.
SERVER_KIT_CI = ("daphne-httptools", "daphne-python", "daphne-httptools-tls")


@nox.session(name="server-conformance-ci", python=DEFAULT_PYTHON, tags=["ci"])
def server_conformance_ci(session: nox.Session) -> None:
    """The server kit against daphne (plain TCP with both parsers, TLS with httptools); any
    failing check fails CI."""
    _install_local(session, "./conformance[server]", "./packages/daphne[fast,http2]")
    for name in SERVER_KIT_CI:
        options = [f"--{key}={value}" for key, value in SERVER_KIT[name].items()]
        report = REPORTS / f"server-conformance-{name}.xml"
        args = ["-m", "asgi_conformance.server", f"--name={name}", f"--junitxml={report}"]
        session.run("python", *args, *options, *session.posargs)
