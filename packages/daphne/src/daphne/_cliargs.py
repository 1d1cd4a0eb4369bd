"""Command-line flags generated from the option fields, for ``daphne`` and for runserver.

Both front ends call :func:`add_option_arguments` and hand the parsed values to
:func:`server_options`, which turns them into ``Server`` keyword arguments. Invariants:

* the destination of an option's flag is the option's field name;
* an option is handed to the server when the command line changed it (its value differs from
  the parser's default); options upstream's command line had are handed over every time when
  ``upstream_always`` is set (``daphne``'s own CLI), so a ``server_class`` written for
  upstream's ``Server`` signature gets exactly the keywords it got from upstream; daphne's
  own ``Server`` also gets every option whose command-line default is not ``Server``'s
  (``--gc-threshold``: the command owns its process, ``Server()`` may not);
* an option that ``requires`` a switch is a usage error without it, as upstream's
  ``--proxy-headers-host`` was.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from ._config import option_fields
from ._options import SAME, Option, complaint

#: Switches that other options require: they are the command line's own, not server options.
SWITCHES = {
    "proxy_headers": (
        "--proxy-headers",
        "Use X-Forwarded-For/-Port/-Proto from trusted proxies",
    ),
}
_KINDS = {int: "an integer", float: "a number", str: "a string"}

Container = Any  # an ArgumentParser or one of its argument groups
GroupFor = Callable[[str], Container]


def add_option_arguments(
    group_for: GroupFor,
    *,
    short_flags: bool = True,
    suppress_defaults: bool = False,
    taken: frozenset[str] = frozenset(),
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> None:
    """Add a flag per option (and the switches they require) to ``group_for(group title)``.

    runserver passes ``short_flags=False`` and the flags Django already has as ``taken`` (an
    option left with no flag keeps Django's: ``--verbosity``), ``suppress_defaults`` so that
    only what the user typed reaches the server, and upstream runserver's spellings as aliases.
    """
    switches: set[str] = set()
    for field, spec in option_fields().items():
        flags = [f for f in spec.flags if f not in taken and (short_flags or f.startswith("--"))]
        flags += (aliases or {}).get(field.name, ())
        if not flags:
            continue
        default = field.default if spec.cli_default is SAME else spec.cli_default
        if spec.follows or spec.requires:
            default = None  # resolved by server_options
        if suppress_defaults:
            default = argparse.SUPPRESS
        container = group_for(spec.group)
        if spec.requires and spec.requires not in switches:
            switches.add(spec.requires)
            flag, text = SWITCHES[spec.requires]
            container.add_argument(flag, dest=spec.requires, action="store_true", help=text)
        container.add_argument(*flags, **_argument(field.name, spec, default))
        if spec.off is not None:
            container.add_argument(
                spec.off[0],
                dest=field.name,
                action="store_const",
                const=spec.off[1],
                help=spec.off[2],
                **({"default": argparse.SUPPRESS} if suppress_defaults else {}),
            )


def _argument(name: str, spec: Option, default: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dest": name, "help": spec.help, "default": default}
    if spec.cli_values is not None:
        kwargs["choices"] = tuple(spec.cli_values)
    elif spec.cli_type is None:
        kwargs["action"] = "store_true"
    else:
        kwargs["type"] = _value_parser(spec)
        if spec.choices is not None:
            kwargs["choices"] = spec.choices
        if spec.nargs is not None:
            kwargs["nargs"] = spec.nargs
    if "choices" not in kwargs and "action" not in kwargs:
        # Named after the flag, not the field: --proxy-headers-host PROXY_HEADERS_HOST.
        kwargs["metavar"] = spec.flags[-1].lstrip("-").replace("-", "_").upper()
    return kwargs


def _value_parser(spec: Option) -> Callable[[str], Any]:
    """Parse a flag's text and hold it to the option's checks: a bad value is a usage error."""
    cli_type = spec.cli_type
    assert cli_type is not None

    def parse(text: str) -> Any:
        try:
            value = cli_type(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {_KINDS.get(cli_type, cli_type)}, got {text!r}"  # type: ignore[call-overload]
            ) from None
        wanted = complaint(spec, value) if spec.choices is None else None
        if wanted is not None:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value

    parse.__name__ = getattr(cli_type, "__name__", "value")
    return parse


def server_options(
    values: Mapping[str, Any],
    parser: argparse.ArgumentParser,
    *,
    upstream_always: bool,
    own_server: bool = False,
) -> dict[str, Any]:
    """``Server`` keyword arguments from parsed values (see the module docstring's rules).

    With ``own_server`` (the class is daphne's ``Server``, which knows every option), an
    option whose command-line default differs from ``Server``'s is passed even when untyped.

    Raises ``argparse.ArgumentError`` when an option is given without the switch it requires.
    """
    kwargs: dict[str, Any] = {}
    for field, spec in option_fields().items():
        name = field.name
        if spec.requires is not None:
            value = _required_switch_value(name, spec, values, parser)
            if value is not None or (spec.upstream and upstream_always):
                kwargs[name] = value
            continue
        if name not in values:
            continue  # suppressed: not typed
        raw = values[name]
        if raw is None and spec.follows is not None:
            if spec.follows not in values:
                continue
            raw = values[spec.follows]
        elif (
            not (spec.upstream and upstream_always)
            and raw == parser.get_default(name)
            and not (own_server and spec.cli_default is not SAME)
        ):
            continue
        kwargs[name] = spec.cli_values[raw] if spec.cli_values is not None else raw
    return kwargs


def _required_switch_value(
    name: str, spec: Option, values: Mapping[str, Any], parser: argparse.ArgumentParser
) -> Any:
    given = values.get(name)
    switched_on = bool(values.get(spec.requires or ""))
    if given and not switched_on:
        flag = spec.flags[-1]
        action = next(a for a in parser._actions if flag in a.option_strings)
        switch = SWITCHES[spec.requires or ""][0]
        raise argparse.ArgumentError(action, f"{switch} has to be passed for this parameter.")
    if not switched_on:
        return None
    return given or spec.implied


__all__ = ["SWITCHES", "add_option_arguments", "server_options"]
