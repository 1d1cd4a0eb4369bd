"""``Server``'s calling convention, derived from the option fields.

``Server(application, endpoints, *positional, **options)``: the positional parameters follow
upstream Daphne's order (code written for it passes them that way), and every other option is
keyword-only. Three parameters wire the server into its process rather than configure it
(``signal_handlers``, ``action_logger``, ``ready_callable``): they are Python objects no command
line can name, so they are not ``ServerConfig`` fields. Everything else is.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._config import ServerConfig, option_fields
from ._context import ActionLogger

#: Upstream ``Server``'s positional parameters after ``application`` and ``endpoints``.
POSITIONAL = (
    "signal_handlers",
    "action_logger",
    "http_timeout",
    "request_buffer_size",
    "websocket_timeout",
    "websocket_connect_timeout",
    "ping_interval",
    "ping_timeout",
    "root_path",
    "proxy_forwarded_address_header",
    "proxy_forwarded_port_header",
    "proxy_forwarded_proto_header",
    "verbosity",
    "websocket_handshake_timeout",
    "websocket_max_message_size",
    "websocket_max_frame_size",
    "application_close_timeout",
    "ready_callable",
    "server_name",
)


@dataclass
class Wiring:
    """The parameters that connect a server to its process (see the module docstring)."""

    signal_handlers: bool = True
    action_logger: ActionLogger | None = None
    ready_callable: Callable[[], object] | None = None


_WIRING = ("signal_handlers", "action_logger", "ready_callable")


def server_arguments(args: Sequence[Any], options: dict[str, Any]) -> tuple[Wiring, ServerConfig]:
    """Map ``Server``'s arguments after ``endpoints`` onto the wiring and the configuration.

    Raises TypeError as a Python signature would (too many positionals, one given twice, an
    unknown keyword) and TypeError/ValueError naming the option for a bad value.
    """
    if len(args) > len(POSITIONAL):
        raise TypeError(
            f"Server() takes at most {len(POSITIONAL) + 2} positional arguments "
            f"(application, endpoints, {', '.join(POSITIONAL)}); got {len(args) + 2}"
        )
    named = dict(options)
    for name, value in zip(POSITIONAL, args, strict=False):
        if name in named:
            raise TypeError(f"Server() got multiple values for argument {name!r}")
        named[name] = value
    wiring = Wiring(**{name: named.pop(name) for name in _WIRING if name in named})
    return wiring, ServerConfig.from_options(named)


def server_signature() -> inspect.Signature:
    """The signature ``help(Server)`` and ``inspect.signature(Server)`` show."""
    kind = inspect.Parameter
    defaults = {field.name: field.default for field in option_fields()}
    defaults.update({name: getattr(Wiring, name) for name in _WIRING})
    params = [
        kind("self", kind.POSITIONAL_OR_KEYWORD),
        kind("application", kind.POSITIONAL_OR_KEYWORD),
        kind("endpoints", kind.POSITIONAL_OR_KEYWORD, default=None),
    ]
    params += [kind(n, kind.POSITIONAL_OR_KEYWORD, default=defaults[n]) for n in POSITIONAL]
    params += [
        kind(name, kind.KEYWORD_ONLY, default=default)
        for name, default in defaults.items()
        if name not in POSITIONAL
    ]
    return inspect.Signature(params)


__all__ = ["POSITIONAL", "ActionLogger", "Wiring", "server_arguments", "server_signature"]
