"""Finding channel layers from ``settings.CHANNEL_LAYERS``.

channels never imports a backend by name: it imports whatever dotted path
``BACKEND`` holds, on first use. Layers are built lazily and forgotten when
``CHANNEL_LAYERS`` changes (for example under ``override_settings``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asgiref.layers import BaseChannelLayer, InvalidChannelLayerError

from . import DEFAULT_CHANNEL_LAYER

__all__ = ["ChannelLayerManager", "channel_layers", "get_channel_layer"]

#: Keys a CHANNEL_LAYERS entry may hold.
ALLOWED_ALIAS_KEYS = frozenset({"BACKEND", "CONFIG", "TEST_CONFIG"})


def _settings_channel_layers() -> Mapping[str, Any]:
    from django.conf import settings

    value = getattr(settings, "CHANNEL_LAYERS", None)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidChannelLayerError(
            f"CHANNEL_LAYERS must be a dict of alias -> config, got {type(value).__name__}"
        )
    return value


def _alias_config(configs: Mapping[str, Any], alias: str) -> Mapping[str, Any]:
    config = configs[alias]
    if not isinstance(config, Mapping):
        raise InvalidChannelLayerError(
            f"CHANNEL_LAYERS[{alias!r}] must be a dict with a BACKEND key, "
            f"got {type(config).__name__}"
        )
    unknown = set(config) - ALLOWED_ALIAS_KEYS
    if unknown:
        raise InvalidChannelLayerError(
            f"CHANNEL_LAYERS[{alias!r}] has unknown keys {sorted(unknown)}; "
            f"allowed keys are {sorted(ALLOWED_ALIAS_KEYS)}"
        )
    return config


def _import_backend(alias: str, path: object) -> type[Any]:
    from django.utils.module_loading import import_string

    if not isinstance(path, str) or not path:
        raise InvalidChannelLayerError(
            f"CHANNEL_LAYERS[{alias!r}]['BACKEND'] must be a dotted path string, got {path!r}"
        )
    try:
        backend: type[Any] = import_string(path)
    except ImportError as exc:
        raise InvalidChannelLayerError(
            f"Cannot import BACKEND {path!r} specified for channel layer {alias!r}: {exc}"
        ) from exc
    return backend


class ChannelLayerManager:
    """Lazily builds and caches one layer instance per alias."""

    def __init__(self) -> None:
        self.backends: dict[str, Any] = {}
        self._listening = False

    def _listen_for_setting_changes(self) -> None:
        # Connected on first use rather than at import: importing channels
        # must not touch Django's signal registry.
        if self._listening:
            return
        from django.core.signals import setting_changed

        setting_changed.connect(
            self._reset_backends, dispatch_uid=f"channels.layers.reset.{id(self)}"
        )
        self._listening = True

    def _reset_backends(self, setting: str, **kwargs: Any) -> None:
        if setting == "CHANNEL_LAYERS":
            self.backends = {}

    @property
    def configs(self) -> Mapping[str, Any]:
        """``settings.CHANNEL_LAYERS``, read on each access (``{}`` when it is not set).

        Raises ``InvalidChannelLayerError`` when the setting is not a mapping.
        """
        return _settings_channel_layers()

    def make_backend(self, name: str) -> Any:
        """Build the layer for alias *name* from its ``CONFIG``."""
        config = _alias_config(self.configs, name)
        return self._make_backend(name, config.get("CONFIG", {}))

    def make_test_backend(self, name: str) -> Any:
        """Build the layer for alias *name* from its ``TEST_CONFIG``."""
        config = _alias_config(self.configs, name)
        if "TEST_CONFIG" not in config:
            raise InvalidChannelLayerError(f"No TEST_CONFIG specified for channel layer {name!r}")
        return self._make_backend(name, config["TEST_CONFIG"])

    def _make_backend(self, name: str, config: object) -> Any:
        if not isinstance(config, Mapping):
            raise InvalidChannelLayerError(
                f"CONFIG of channel layer {name!r} must be a dict of keyword arguments, "
                f"got {type(config).__name__}"
            )
        backend_class = _import_backend(name, self.configs[name].get("BACKEND"))
        try:
            return backend_class(**config)
        except TypeError as exc:
            raise InvalidChannelLayerError(
                f"Channel layer {name!r} ({backend_class.__qualname__}) rejected its CONFIG "
                f"{sorted(config)}: {exc}"
            ) from exc

    def __getitem__(self, key: str) -> Any:
        self._listen_for_setting_changes()
        if key not in self.backends:
            self.backends[key] = self.make_backend(key)
        return self.backends[key]

    def __contains__(self, key: object) -> bool:
        return key in self.configs

    def set(self, key: str, layer: Any) -> Any:
        """Install *layer* under *key* (tests use this); return the previous one."""
        self._listen_for_setting_changes()
        previous = self.backends.get(key)
        self.backends[key] = layer
        return previous


channel_layers = ChannelLayerManager()


def get_channel_layer(alias: str = DEFAULT_CHANNEL_LAYER) -> BaseChannelLayer | None:
    """Return the layer for *alias*, or ``None`` when no such alias is configured."""
    if alias not in channel_layers.backends and alias not in channel_layers.configs:
        return None
    layer: BaseChannelLayer = channel_layers[alias]
    return layer
