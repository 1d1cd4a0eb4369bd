"""How one server option is declared: beside its default, its flag, help and checks.

A :class:`~daphne._config.ServerConfig` field made with :func:`option` carries an
:class:`Option` in its metadata. Everything else is derived from those fields: ``Server``'s
keyword arguments, the ``daphne`` command line, runserver's flags and ``docs/daphne-cli.md``.
A new option is therefore one field, written once.

Invariants:

* a value from Python goes through ``convert`` (the caller's form to the field's form), then
  the field's type, then ``choices`` and ``check``; each failure names the option;
* a value from the command line is parsed by ``cli_type`` and meets the same ``choices`` and
  ``check``, so a bad value is a usage error before any server is built.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

#: ``Option.cli_default`` when the command line's default is the field's own.
SAME: Any = object()

Check = Callable[[Any], "str | None"]


@dataclasses.dataclass(frozen=True)
class Option:
    """The declaration of one option beyond its Python default."""

    help: str
    #: The heading the option is listed under in ``--help`` and the CLI reference.
    group: str
    #: Command-line spellings; upstream's own spellings first where upstream had the flag.
    flags: tuple[str, ...] = ()
    #: Parses the command-line string; None makes the flag a switch (store_true).
    cli_type: Callable[[str], Any] | None = None
    choices: tuple[Any, ...] | None = None
    #: Returns a complaint ("expected ..., got ...") about a value, or None when it is good.
    check: Check | None = None
    #: Turns what a Python caller passes into the field's form (``"daphne"`` -> ``b"daphne"``).
    convert: Callable[[Any], Any] | None = None
    #: Upstream's command line sometimes defaults differently from upstream's ``Server``.
    cli_default: Any = SAME
    #: Command-line words standing for Python values (``--http-parser python`` -> False).
    cli_values: Mapping[str, Any] | None = None
    #: A second flag that stores a fixed value, and its help (``--no-server-name`` stores "").
    off: tuple[str, Any, str] | None = None
    #: On the command line, absent means "whatever this other option got".
    follows: str | None = None
    #: On the command line, only allowed with this switch, which also implies ``implied``.
    requires: str | None = None
    implied: Any = None
    nargs: str | None = None
    #: Upstream's command line had it: the CLI always hands it to ``server_class``.
    upstream: bool = False


def option(default: Any, help: str, group: str, *flags: str, **declaration: Any) -> Any:
    """A dataclass field for an option (typed ``Any`` so that it fits any annotation)."""
    spec = Option(help=help, group=group, flags=flags, **declaration)
    return dataclasses.field(default=default, metadata={"option": spec})


def option_of(field: dataclasses.Field[Any]) -> Option | None:
    spec = field.metadata.get("option")
    return spec if isinstance(spec, Option) else None


def complaint(spec: Option, value: Any) -> str | None:
    """What a good value would be ("a positive number") when ``value`` is not one, else None."""
    if spec.choices is not None and value not in spec.choices:
        return describe_choices(spec.choices)
    return spec.check(value) if spec.check is not None else None


def describe_choices(choices: tuple[Any, ...]) -> str:
    numbers = [c for c in choices if isinstance(c, int)]
    if len(numbers) == len(choices) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"in {numbers[0]}..{numbers[-1]}"
    return "one of " + ", ".join(str(c) for c in choices)


# Checks: each returns what a good value would be, or None when the value is good ---------------


def positive(value: Any) -> str | None:
    return None if value > 0 else "a positive number"


def positive_or_none(value: Any) -> str | None:
    return None if value is None or value > 0 else "a positive number or None"


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else "a number of at least 0"


def non_negative_or_none(value: Any) -> str | None:
    return None if value is None or value >= 0 else "a number of at least 0, or None"


# Conversions from the forms Python callers pass -----------------------------------------------


def header_value(value: Any) -> bytes | None:
    """A response-header value: ``str`` (Latin-1) or ``bytes``; empty or None means none."""
    if value is None or isinstance(value, bytes):
        return value or None
    if isinstance(value, str):
        return value.encode("latin-1") or None
    raise TypeError(f"expected a str, bytes or None, got {value!r}")


def names_or_none(value: Any) -> tuple[str, ...] | None:
    """Any iterable of names as a tuple; empty or None means none."""
    return tuple(value) if value else None


def names_or_text(value: Any) -> tuple[str, ...] | str | None:
    """A comma-separated string kept as it is, or any iterable of names as a tuple."""
    if value is None or isinstance(value, str):
        return value
    return tuple(value)


__all__ = [
    "SAME",
    "Option",
    "complaint",
    "header_value",
    "names_or_none",
    "names_or_text",
    "non_negative",
    "non_negative_or_none",
    "option",
    "option_of",
    "positive",
    "positive_or_none",
]
