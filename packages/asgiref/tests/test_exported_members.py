"""Pins the public API of asgiref's core modules (asgiref.layers pins its own)."""

from __future__ import annotations

import importlib

import asgiref
import pytest

PUBLIC_API = {
    "asgiref": {"__version__"},
    "asgiref.sync": {
        "AsyncSingleThreadContext",
        "AsyncToSync",
        "SyncToAsync",
        "ThreadSensitiveContext",
        "async_to_sync",
        "iscoroutinefunction",
        "markcoroutinefunction",
        "sync_to_async",
    },
    "asgiref.local": {"Local"},
    "asgiref.current_thread_executor": {"CurrentThreadExecutor"},
    "asgiref.compatibility": {
        "double_to_single_callable",
        "guarantee_single_callable",
        "is_double_callable",
    },
    "asgiref.testing": {"ApplicationCommunicator"},
    "asgiref.server": {"StatelessServer"},
    "asgiref.wsgi": {"ClientDisconnected", "WsgiToAsgi", "WsgiToAsgiInstance"},
    "asgiref.timeout": {"timeout"},
    "asgiref.typing": {
        "ApplicationCallable",
        "MessageMapping",
        "ReceiveCallable",
        "ScopeMapping",
        "SendCallable",
        "ASGI2Application",
        "ASGI2Protocol",
        "ASGI3Application",
        "ASGIApplication",
        "ASGIReceiveCallable",
        "ASGIReceiveEvent",
        "ASGISendCallable",
        "ASGISendEvent",
        "ASGIVersions",
        "HTTPDisconnectEvent",
        "HTTPRequestEvent",
        "HTTPResponseBodyEvent",
        "HTTPResponseDebugEvent",
        "HTTPResponseStartEvent",
        "HTTPResponseTrailersEvent",
        "HTTPScope",
        "HTTPServerPushEvent",
        "LifespanScope",
        "LifespanShutdownCompleteEvent",
        "LifespanShutdownEvent",
        "LifespanShutdownFailedEvent",
        "LifespanStartupCompleteEvent",
        "LifespanStartupEvent",
        "LifespanStartupFailedEvent",
        "Scope",
        "WWWScope",
        "WebSocketAcceptEvent",
        "WebSocketCloseEvent",
        "WebSocketConnectEvent",
        "WebSocketDisconnectEvent",
        "WebSocketReceiveEvent",
        "WebSocketResponseBodyEvent",
        "WebSocketResponseStartEvent",
        "WebSocketScope",
        "WebSocketSendEvent",
    },
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC_API))
def test_all_is_exactly_the_public_api(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == PUBLIC_API[module_name]
    assert len(module.__all__) == len(set(module.__all__))


@pytest.mark.parametrize("module_name", sorted(PUBLIC_API))
def test_every_exported_name_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{module_name}.{name}"


@pytest.mark.parametrize(
    ("module_name", "name"),
    [
        (module_name, name)
        for module_name, names in PUBLIC_API.items()
        for name in names
        if name[0].isupper() and module_name not in {"asgiref.typing"}
    ],
)
def test_exported_classes_and_functions_claim_their_public_module(
    module_name: str, name: str
) -> None:
    # Private implementation modules must stay private: public objects are documented and
    # pickled under their public home only through the re-export.
    module = importlib.import_module(module_name)
    obj = getattr(module, name)
    assert obj.__module__.startswith("asgiref."), obj.__module__


def test_version_is_a_3x_release_that_satisfies_django() -> None:
    major, minor, *_ = (int(part) for part in asgiref.__version__.split(".")[:3])
    # Django 5.2 requires asgiref>=3.8.1, Django 6.x asgiref>=3.9.1.
    assert major == 3
    assert minor >= 10
