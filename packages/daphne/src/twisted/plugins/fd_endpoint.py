"""Twisted endpoint plugin for ``fd:fileno=N[:domain=INET|INET6|UNIX]``, installed by daphne.

With it, ``twisted.internet.endpoints.serverFromString`` understands ``fd:`` anywhere, as it
does with upstream Daphne installed; daphne's server parses ``fd:`` itself as well.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IStreamServerEndpointStringParser
from twisted.plugin import IPlugin
from zope.interface import implementer  # type: ignore[import-untyped]


@implementer(IPlugin, IStreamServerEndpointStringParser)
class _AdoptedSocketParser:
    prefix = "fd"

    def parseStreamServer(self, reactor: Any, *args: Any, **kwargs: Any) -> Any:
        from daphne._endpoints import fd_endpoint

        return fd_endpoint(reactor, *args, **kwargs)


parser = _AdoptedSocketParser()
