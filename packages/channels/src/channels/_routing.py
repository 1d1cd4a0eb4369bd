"""Routers: by protocol type, by URL and by channel name.

Routers are ASGI applications. They never copy a scope in place: each one
passes a new dict down so that an outer router's scope is never changed by
an inner one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern

from ._types import ASGIApp, Receive, Scope, Send

__all__ = [
    "ChannelNameRouter",
    "ProtocolTypeRouter",
    "URLRouter",
    "get_default_application",
    "require_application",
    "resolve_path",
]


def get_default_application() -> ASGIApp:
    """Import and return the application named by ``settings.ASGI_APPLICATION``."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = getattr(settings, "ASGI_APPLICATION", None)
    if not isinstance(path, str) or not path:
        raise ImproperlyConfigured(
            f"ASGI_APPLICATION must be a dotted path such as 'mysite.asgi.application', "
            f"got {path!r}"
        )
    try:
        application: ASGIApp = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"Cannot import ASGI_APPLICATION {path!r}: {exc}") from exc
    return application


class ProtocolTypeRouter:
    """Send each connection to the application registered for ``scope["type"]``.

    Typical keys are ``"http"`` (often Django's ``get_asgi_application()``),
    ``"websocket"``, ``"channel"`` and ``"lifespan"`` (see
    :class:`channels.lifespan.Lifespan`).
    """

    def __init__(self, application_mapping: Mapping[str, ASGIApp]) -> None:
        if not isinstance(application_mapping, Mapping):
            raise TypeError(
                f"ProtocolTypeRouter expects a dict of scope type -> application, "
                f"got {type(application_mapping).__name__}"
            )
        for key, app in application_mapping.items():
            require_application(app, f"ProtocolTypeRouter entry {key!r}")
        self.application_mapping = dict(application_mapping)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        scope_type = scope.get("type")
        try:
            application = self.application_mapping[scope_type]  # type: ignore[index]
        except KeyError:
            raise ValueError(
                f"No application configured for scope type {scope_type!r}; "
                f"configured types are {sorted(self.application_mapping)}"
            ) from None
        return await application(scope, receive, send)


def require_application(app: object, where: str) -> None:
    """Refuse what is not an ASGI application, naming the usual mistake."""
    if isinstance(app, type) and hasattr(app, "as_asgi"):
        raise TypeError(
            f"{where} is the consumer class {app.__qualname__}; route {app.__qualname__}"
            f".as_asgi() instead"
        )
    if not callable(app):
        raise TypeError(f"{where} must be an ASGI application, got {app!r}")


def _nested_pattern(pattern: object) -> RoutePattern | RegexPattern:
    # Django compiles path() patterns as endpoints (anchored at the end). A
    # route that leads to a nested router must match a prefix instead, so a
    # non-endpoint twin of the pattern is built once, at router creation.
    if isinstance(pattern, RoutePattern):
        return RoutePattern(str(pattern), name=pattern.name, is_endpoint=False)
    if isinstance(pattern, RegexPattern):
        return RegexPattern(str(pattern), name=pattern.name, is_endpoint=False)
    raise ImproperlyConfigured(
        f"URLRouter supports path() and re_path() patterns, got {type(pattern).__name__}"
    )


class _Route:
    __slots__ = ("app", "default_kwargs", "nested", "pattern")

    def __init__(self, route: object) -> None:
        if isinstance(route, URLResolver):
            raise ImproperlyConfigured(
                f"URLRouter does not support include() (got {route!r}); nest another "
                f"router instead: path('prefix/', URLRouter([...]))"
            )
        if not isinstance(route, URLPattern):
            raise ImproperlyConfigured(
                f"URLRouter routes must come from django.urls.path() or re_path(), got {route!r}"
            )
        require_application(route.callback, f"The route {str(route.pattern)!r}")
        self.app: ASGIApp = route.callback
        # Upstream's marker: an application with ``_path_routing = True`` routes
        # on the rest of the path itself (URLRouter, or a third-party router).
        self.nested = getattr(route.callback, "_path_routing", False) is True
        self.pattern = _nested_pattern(route.pattern) if self.nested else route.pattern
        self.default_kwargs: dict[str, Any] = dict(route.default_args)


def resolve_path(scope: Scope) -> str:
    """Return the part of the path a :class:`URLRouter` should match.

    An outer router leaves ``path_remaining``; otherwise ``root_path`` is
    removed from ``path`` when ``path`` starts with it (servers differ on
    whether ``path`` includes ``root_path``).
    """
    if "path_remaining" in scope:
        return str(scope["path_remaining"])
    path = scope.get("path")
    if not isinstance(path, str):
        raise ValueError(
            f"No 'path' key in connection scope, cannot route URLs (URLRouter needs a str "
            f"'path', got {path!r})"
        )
    root_path = scope.get("root_path") or ""
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    return path


class URLRouter:
    """Route by URL with Django's ``path()`` and ``re_path()``.

    Matched arguments land in ``scope["url_route"] = {"args": ..., "kwargs": ...}``,
    merged with any outer router's. A route whose application is another
    ``URLRouter`` matches a prefix and hands the rest of the path down.
    """

    #: Upstream's marker for "routes on ``path_remaining``": an outer URLRouter
    #: matches this router's pattern as a prefix.
    _path_routing = True

    def __init__(self, routes: Iterable[object]) -> None:
        self.routes = list(routes)
        self._compiled = [_Route(route) for route in self.routes]

    def matches(self, path: str) -> Iterator[tuple[_Route, str, tuple[Any, ...], dict[str, Any]]]:
        """Every route that matches *path*, in order, with its rest, args and kwargs."""
        candidate = path.lstrip("/")
        for route in self._compiled:
            found = route.pattern.match(candidate)
            if found is not None:
                remaining, args, kwargs = found
                yield route, remaining, tuple(args), {**kwargs, **route.default_kwargs}

    def match(self, path: str) -> tuple[_Route, str, tuple[Any, ...], dict[str, Any]] | None:
        """The first route that matches *path*, or None."""
        return next(self.matches(path), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        # Django's patterns match a path without its leading slashes (all of
        # them, as upstream: "//ws/x" routes like "/ws/x").
        path = resolve_path(scope).lstrip("/")
        for route, remaining, args, kwargs in self.matches(path):
            inner_scope = _inner_scope(scope, args, kwargs)
            if not route.nested:
                inner_scope.pop("path_remaining", None)
                return await route.app(inner_scope, receive, send)
            inner_scope["path_remaining"] = remaining
            try:
                return await route.app(inner_scope, receive, send)
            except Resolver404:
                # A nested router found nothing for the rest of the path: as
                # upstream, the routes after this prefix get their turn.
                continue
        if "path_remaining" in scope:
            raise NoRouteFound(f"No route found for path {path!r}.")
        raise ValueError(f"No route found for path {path!r}.")


class NoRouteFound(Resolver404, ValueError):
    """A nested router matched nothing; the outer router tries its next routes."""


def _inner_scope(scope: Scope, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    outer = scope.get("url_route") or {"args": (), "kwargs": {}}
    inner_scope = dict(scope)
    inner_scope["url_route"] = {
        "args": tuple(outer.get("args", ())) + args,
        "kwargs": {**outer.get("kwargs", {}), **kwargs},
    }
    return inner_scope


class ChannelNameRouter:
    """Route ``channel`` scopes (from ``runworker``) by ``scope["channel"]``."""

    def __init__(self, application_mapping: Mapping[str, ASGIApp]) -> None:
        for channel, app in application_mapping.items():
            require_application(app, f"ChannelNameRouter entry {channel!r}")
        self.application_mapping = dict(application_mapping)

    @property
    def channel_names(self) -> Sequence[str]:
        """The channel names this router has an application for, in mapping order.

        A new list on each access; give the same names to ``runworker`` to serve them.
        """
        return list(self.application_mapping)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if "channel" not in scope:
            raise ValueError(
                f"ChannelNameRouter got a scope without a 'channel' key. Did you make sure "
                f"it's only being used for 'channel' type messages? (got scope type "
                f"{scope.get('type')!r})"
            )
        channel = scope["channel"]
        try:
            application = self.application_mapping[channel]
        except KeyError:
            raise ValueError(
                f"No application configured for channel name {channel!r}; configured "
                f"channels are {sorted(self.application_mapping)}"
            ) from None
        return await application(scope, receive, send)
