"""ASGI 3 message and scope shapes as TypedDicts (HTTP, WebSocket, lifespan).

Field names and value types follow the ASGI specification; keys that servers may omit are
``NotRequired``.
"""

import sys
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Literal, Protocol

if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:  # pragma: no cover - exercised on 3.10 only
    # 3.10's typing.TypedDict does not understand NotRequired.
    from typing_extensions import NotRequired, TypedDict


class ASGIVersions(TypedDict):
    """The ``scope["asgi"]`` dict: the ASGI version and the spec version the server speaks."""

    spec_version: str
    version: Literal["2.0", "3.0"]


class HTTPScope(TypedDict):
    """The connection scope of one HTTP request (``scope["type"] == "http"``)."""

    type: Literal["http"]
    asgi: ASGIVersions
    http_version: str
    method: str
    scheme: str
    path: str
    raw_path: bytes
    query_string: bytes
    root_path: str
    headers: Iterable[tuple[bytes, bytes]]
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    state: NotRequired[dict[str, Any]]
    extensions: NotRequired[dict[str, dict[object, object]] | None]


class WebSocketScope(TypedDict):
    """The connection scope of one WebSocket (``scope["type"] == "websocket"``)."""

    type: Literal["websocket"]
    asgi: ASGIVersions
    http_version: str
    scheme: str
    path: str
    raw_path: bytes
    query_string: bytes
    root_path: str
    headers: Iterable[tuple[bytes, bytes]]
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    subprotocols: Iterable[str]
    state: NotRequired[dict[str, Any]]
    extensions: NotRequired[dict[str, dict[object, object]] | None]


class LifespanScope(TypedDict):
    """The scope of the one lifespan connection a server opens per process."""

    type: Literal["lifespan"]
    asgi: ASGIVersions
    state: NotRequired[dict[str, Any]]


WWWScope = HTTPScope | WebSocketScope
Scope = HTTPScope | WebSocketScope | LifespanScope


class HTTPRequestEvent(TypedDict):
    """Received: a chunk of the request body; ``more_body`` is false on the last one."""

    type: Literal["http.request"]
    body: bytes
    more_body: bool


class HTTPResponseDebugEvent(TypedDict):
    """Sent by test tooling only: extra information about a response (not sent to clients)."""

    type: Literal["http.response.debug"]
    info: dict[str, object]


class HTTPResponseStartEvent(TypedDict):
    """Sent: the response status and headers; ``trailers`` announces trailers after the body."""

    type: Literal["http.response.start"]
    status: int
    headers: Iterable[tuple[bytes, bytes]]
    trailers: bool


class HTTPResponseBodyEvent(TypedDict):
    """Sent: a chunk of the response body; ``more_body`` false ends the response."""

    type: Literal["http.response.body"]
    body: bytes
    more_body: bool


class HTTPResponseTrailersEvent(TypedDict):
    """Sent: response trailers, when the start event announced them."""

    type: Literal["http.response.trailers"]
    headers: Iterable[tuple[bytes, bytes]]
    more_trailers: bool


class HTTPServerPushEvent(TypedDict):
    """Sent: ask an HTTP/2 server to push a resource (servers may ignore it)."""

    type: Literal["http.response.push"]
    path: str
    headers: Iterable[tuple[bytes, bytes]]


class HTTPDisconnectEvent(TypedDict):
    """Received: the client went away (or the response is complete and the connection closed)."""

    type: Literal["http.disconnect"]


class WebSocketConnectEvent(TypedDict):
    """Received: a client asks to open the socket; answer with accept or close."""

    type: Literal["websocket.connect"]


class WebSocketAcceptEvent(TypedDict):
    """Sent: accept the handshake, optionally choosing a subprotocol and adding headers."""

    type: Literal["websocket.accept"]
    subprotocol: str | None
    headers: Iterable[tuple[bytes, bytes]]


class WebSocketReceiveEvent(TypedDict):
    """Received: one message from the client, in exactly one of ``bytes`` or ``text``."""

    type: Literal["websocket.receive"]
    bytes: bytes | None
    text: str | None


class WebSocketSendEvent(TypedDict):
    """Sent: one message to the client, in exactly one of ``bytes`` or ``text``."""

    type: Literal["websocket.send"]
    bytes: bytes | None
    text: str | None


class WebSocketResponseStartEvent(TypedDict):
    """Sent instead of accepting: start an HTTP denial response (status and headers)."""

    type: Literal["websocket.http.response.start"]
    status: int
    headers: Iterable[tuple[bytes, bytes]]


class WebSocketResponseBodyEvent(TypedDict):
    """Sent: a chunk of the HTTP denial response's body."""

    type: Literal["websocket.http.response.body"]
    body: bytes
    more_body: bool


class WebSocketDisconnectEvent(TypedDict):
    """Received: the socket closed, with its close code (and reason, where the server has it)."""

    type: Literal["websocket.disconnect"]
    code: int
    reason: NotRequired[str | None]


class WebSocketCloseEvent(TypedDict):
    """Sent: close the socket, or refuse the handshake (HTTP 403) when sent before accepting."""

    type: Literal["websocket.close"]
    code: int
    reason: str | None


class LifespanStartupEvent(TypedDict):
    """Received once per process, before the server accepts connections."""

    type: Literal["lifespan.startup"]


class LifespanShutdownEvent(TypedDict):
    """Received once per process, after the server stopped serving connections."""

    type: Literal["lifespan.shutdown"]


class LifespanStartupCompleteEvent(TypedDict):
    """Sent: startup succeeded; the server may start serving."""

    type: Literal["lifespan.startup.complete"]


class LifespanStartupFailedEvent(TypedDict):
    """Sent: startup failed, with a message; the server exits."""

    type: Literal["lifespan.startup.failed"]
    message: str


class LifespanShutdownCompleteEvent(TypedDict):
    """Sent: shutdown finished cleanly."""

    type: Literal["lifespan.shutdown.complete"]


class LifespanShutdownFailedEvent(TypedDict):
    """Sent: shutdown failed, with a message."""

    type: Literal["lifespan.shutdown.failed"]
    message: str


ASGIReceiveEvent = (
    HTTPRequestEvent
    | HTTPDisconnectEvent
    | WebSocketConnectEvent
    | WebSocketReceiveEvent
    | WebSocketDisconnectEvent
    | LifespanStartupEvent
    | LifespanShutdownEvent
)

ASGISendEvent = (
    HTTPResponseStartEvent
    | HTTPResponseBodyEvent
    | HTTPResponseTrailersEvent
    | HTTPServerPushEvent
    | HTTPDisconnectEvent
    | WebSocketAcceptEvent
    | WebSocketSendEvent
    | WebSocketResponseStartEvent
    | WebSocketResponseBodyEvent
    | WebSocketCloseEvent
    | LifespanStartupCompleteEvent
    | LifespanStartupFailedEvent
    | LifespanShutdownCompleteEvent
    | LifespanShutdownFailedEvent
)

ASGIReceiveCallable = Callable[[], Awaitable[ASGIReceiveEvent]]
ASGISendCallable = Callable[[ASGISendEvent], Awaitable[None]]


class ASGI2Protocol(Protocol):
    """An ASGI 2 (double-callable) application: built with the scope, then called."""

    def __init__(self, scope: Scope) -> None: ...

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None: ...


#: A scope as a server or framework builds and edits it: any mutable mapping. The TypedDicts
#: above state what the specification guarantees of each key; the loose forms below are for
#: code that passes scopes and messages along, adds keys, or handles every protocol alike.
ScopeMapping = MutableMapping[str, Any]
#: An event (message) as a server or framework handles it: any mutable mapping.
MessageMapping = MutableMapping[str, Any]
#: ``receive`` in its loose form.
ReceiveCallable = Callable[[], Awaitable[MessageMapping]]
#: ``send`` in its loose form.
SendCallable = Callable[[MessageMapping], Awaitable[None]]
#: An ASGI 3 application in its loose form: ``await app(scope, receive, send)``.
ApplicationCallable = Callable[[ScopeMapping, ReceiveCallable, SendCallable], Awaitable[None]]

ASGI2Application = type[ASGI2Protocol]
ASGI3Application = Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]
ASGIApplication = ASGI2Application | ASGI3Application
