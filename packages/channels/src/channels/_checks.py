"""System checks for ``CHANNEL_LAYERS`` and ``ASGI_APPLICATION``.

Layers are not instantiated (that could open connections); the checks
import the backend class and bind ``CONFIG`` to its constructor signature.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.utils.module_loading import import_string

from ._layers import ALLOWED_ALIAS_KEYS

__all__ = ["check_asgi_application", "check_channel_layers"]


def _check_config_binds(alias: str, key: str, backend: type[Any], config: object) -> list[Error]:
    if not isinstance(config, Mapping):
        return [
            Error(
                f"CHANNEL_LAYERS[{alias!r}][{key!r}] must be a dict of keyword arguments, "
                f"got {type(config).__name__}",
                id="channels.E004",
            )
        ]
    try:
        inspect.signature(backend).bind(**config)
    except TypeError as exc:
        return [
            Error(
                f"CHANNEL_LAYERS[{alias!r}][{key!r}] does not fit {backend.__qualname__}: "
                f"{exc}; it accepts {inspect.signature(backend)}",
                id="channels.E005",
            )
        ]
    except ValueError:
        return []  # no introspectable signature (C extension): nothing to check
    return []


def _check_alias(alias: object, config: object) -> list[Error]:
    if not isinstance(config, Mapping):
        return [
            Error(
                f"CHANNEL_LAYERS[{alias!r}] must be a dict with a 'BACKEND' key, "
                f"got {type(config).__name__}",
                id="channels.E001",
            )
        ]
    errors: list[Error] = []
    unknown = set(config) - ALLOWED_ALIAS_KEYS
    if unknown:
        errors.append(
            Error(
                f"CHANNEL_LAYERS[{alias!r}] has unknown keys {sorted(unknown)}; "
                f"expected only {sorted(ALLOWED_ALIAS_KEYS)}",
                id="channels.E002",
            )
        )
    path = config.get("BACKEND")
    try:
        if not isinstance(path, str):
            raise ImportError(f"BACKEND must be a dotted path string, got {path!r}")
        backend = import_string(path)
    except Exception as exc:  # a broken module must become a check error, not a crash
        errors.append(
            Error(
                f"CHANNEL_LAYERS[{alias!r}]['BACKEND'] cannot be imported: {exc}",
                hint="Use a dotted path such as 'channels.layers.InMemoryChannelLayer'.",
                id="channels.E003",
            )
        )
        return errors
    for key in ("CONFIG", "TEST_CONFIG"):
        if key in config:
            errors += _check_config_binds(str(alias), key, backend, config[key])
    return errors


def check_channel_layers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """System check: ``CHANNEL_LAYERS`` maps aliases to dicts with a ``BACKEND`` and known keys."""
    layers = getattr(settings, "CHANNEL_LAYERS", None)
    if layers is None:
        return []
    if not isinstance(layers, Mapping):
        return [
            Error(
                f"CHANNEL_LAYERS must be a dict of alias -> config, got {type(layers).__name__}",
                id="channels.E001",
            )
        ]
    errors: list[CheckMessage] = []
    for alias, config in layers.items():
        errors += _check_alias(alias, config)
    return errors


def check_asgi_application(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """System check: ``ASGI_APPLICATION`` names an importable ASGI application."""
    path = getattr(settings, "ASGI_APPLICATION", None)
    if path is None:
        return []
    if not isinstance(path, str) or not path:
        return [
            Error(
                f"ASGI_APPLICATION must be a dotted path string, got {path!r}",
                hint="For example 'mysite.asgi.application'.",
                id="channels.E010",
            )
        ]
    try:
        application = import_string(path)
    except Exception as exc:  # a broken module must become a check error, not a crash
        return [Error(f"ASGI_APPLICATION {path!r} cannot be imported: {exc}", id="channels.E011")]
    if not callable(application):
        return [
            Error(
                f"ASGI_APPLICATION {path!r} must be an ASGI application (callable), got "
                f"{type(application).__name__}",
                id="channels.E012",
            )
        ]
    return []
