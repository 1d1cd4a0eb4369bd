"""Outbound binding: ``post_save``/``post_delete`` become group messages.

Invariants:

* Signal receivers are connected when the first binding class is registered
  (a class with ``model`` set is registered when it is defined), never when
  this module is imported; they are connected once, under a fixed
  ``dispatch_uid``.
* The payload and the group names are computed when the signal fires (a
  deleted row cannot be read later); they are sent from
  ``transaction.on_commit``, so a rolled-back write is never broadcast.
* A failing broadcast is logged, never raised: the write it reports is
  already committed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from django.core import serializers
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_save

from .. import DEFAULT_CHANNEL_LAYER
from .._layers import get_channel_layer

__all__ = ["EVENT_TYPE", "Binding", "registered_bindings"]

logger = logging.getLogger("channels.binding")

#: The ``type`` of the group messages a binding sends.
EVENT_TYPE = "binding.event"

_registry: list[type[Binding]] = []
_DISPATCH_UID = "channels.binding"
# Where pre_save leaves, on the instance, each binding's groups for the row
# as stored before the update.
_PREVIOUS = "_channels_binding_previous_groups"


def registered_bindings() -> list[type[Binding]]:
    """The binding classes whose models are being watched, in registration order."""
    return list(_registry)


def _connect_signals() -> None:
    pre_save.connect(_on_pre_save, dispatch_uid=f"{_DISPATCH_UID}.pre_save")
    post_save.connect(_on_save, dispatch_uid=f"{_DISPATCH_UID}.save")
    post_delete.connect(_on_delete, dispatch_uid=f"{_DISPATCH_UID}.delete")


def _same_name(first: type, second: type) -> bool:
    return (first.__module__, first.__qualname__) == (second.__module__, second.__qualname__)


def _bindings_for(sender: type) -> list[type[Binding]]:
    return [b for b in _registry if b.model is not None and issubclass(sender, b.model)]


def _on_pre_save(sender: Any, instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    bindings = _bindings_for(sender)
    if raw or not bindings or instance.pk is None:
        return
    manager = sender._default_manager.using(kwargs.get("using"))
    stored = manager.filter(pk=instance.pk).first()
    if stored is None:
        return
    previous: dict[type[Binding], list[str]] = {}
    for binding in bindings:
        try:
            previous[binding] = list(binding.group_names(stored))
        except Exception:
            logger.exception("%s.group_names failed for %r", binding.__qualname__, stored)
    instance.__dict__[_PREVIOUS] = previous


def _on_save(sender: type, instance: models.Model, created: bool = False, **kwargs: Any) -> None:
    previous = instance.__dict__.pop(_PREVIOUS, {})
    if kwargs.get("raw"):
        return  # fixture loading: the rows are not "events"
    for binding in _bindings_for(sender):
        action = "create" if created else "update"
        binding.broadcast(instance, action, previous_groups=previous.get(binding, ()))


def _on_delete(sender: type, instance: models.Model, **kwargs: Any) -> None:
    for binding in _bindings_for(sender):
        binding.broadcast(instance, "delete")


class Binding:
    """Broadcast a model's creates, updates and deletes to channel-layer groups.

    Set ``model``, ``stream`` and one of ``fields`` (``["__all__"]`` for all)
    or ``exclude``, and override :meth:`group_names`. Each group receives
    ``{"type": "binding.event", "stream": stream, "payload": {"action",
    "pk", "model", "data"}}``. Set ``abstract = True`` on a base class that
    should not broadcast itself.
    """

    model: ClassVar[type[models.Model] | None] = None
    stream: ClassVar[str] = ""
    fields: ClassVar[Sequence[str] | None] = None
    exclude: ClassVar[Sequence[str] | None] = None
    channel_layer_alias: ClassVar[str] = DEFAULT_CHANNEL_LAYER

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.model is not None and not cls.__dict__.get("abstract", False):
            cls.register()

    @classmethod
    def register(cls) -> None:
        """Start broadcasting this binding's model changes (idempotent)."""
        cls._check_config()
        # A class defined again under the same name (a reloaded module, an
        # example run twice) replaces the old one instead of broadcasting twice.
        for old in [b for b in _registry if _same_name(b, cls)]:
            _registry.remove(old)
        if not _registry:
            _connect_signals()
        _registry.append(cls)

    @classmethod
    def unregister(cls) -> None:
        """Stop broadcasting (tests, or a binding replaced at runtime)."""
        if cls in _registry:
            _registry.remove(cls)

    @classmethod
    def _check_config(cls) -> None:
        name = cls.__qualname__
        if cls.model is None or not issubclass(cls.model, models.Model):
            raise TypeError(f"{name}.model must be a Django model class, got {cls.model!r}")
        if not cls.stream or not isinstance(cls.stream, str):
            raise TypeError(f"{name}.stream must be a non-empty str, got {cls.stream!r}")
        if (cls.fields is None) == (cls.exclude is None):
            raise TypeError(
                f"{name} must set exactly one of fields (['__all__'] for every field) or "
                f"exclude, got fields={cls.fields!r} and exclude={cls.exclude!r}"
            )
        known = {f.name for f in cls.model._meta.get_fields()}
        unknown = set(cls.fields or cls.exclude or ()) - known - {"__all__"}
        if unknown:
            raise TypeError(
                f"{name} names fields {sorted(unknown)} that {cls.model.__name__} does not have"
            )

    @classmethod
    def group_names(cls, instance: models.Model) -> Iterable[str]:
        """Groups that hear about *instance*'s changes; none unless overridden."""
        return ()

    @classmethod
    def field_names(cls) -> list[str]:
        """Names of the concrete fields a payload carries (the primary key is separate)."""
        assert cls.model is not None
        meta = cls.model._meta
        names = [f.name for f in (*meta.concrete_fields, *meta.many_to_many) if not f.primary_key]
        if cls.fields is not None and "__all__" not in cls.fields:
            return [n for n in names if n in cls.fields]
        return [n for n in names if n not in (cls.exclude or ())]

    @classmethod
    def serialize_data(cls, instance: models.Model) -> dict[str, Any]:
        """The JSON-safe field values of *instance* (dates as ISO strings, FKs as pks)."""
        text = serializers.serialize("json", [instance], fields=cls.field_names())
        data: dict[str, Any] = json.loads(text)[0]["fields"]
        return data

    @classmethod
    def serialize(cls, instance: models.Model, action: str) -> dict[str, Any]:
        """The message sent for *instance* after *action*: action, pk, model label and data."""
        return {
            "action": action,
            "pk": instance.pk,
            "model": instance._meta.label_lower,
            "data": cls.serialize_data(instance),
        }

    @classmethod
    def broadcast(
        cls, instance: models.Model, action: str, previous_groups: Iterable[str] = ()
    ) -> None:
        """Send *action* on *instance* to its groups once the transaction commits.

        Groups in *previous_groups* (the row's groups before an update) that
        no longer hold the instance are sent a ``delete``: it left their view.
        """
        try:
            groups = list(cls.group_names(instance))
            payload = cls.serialize(instance, action)
        except Exception:
            logger.exception("%s could not describe %s of %r", cls.__qualname__, action, instance)
            return
        message = {"type": EVENT_TYPE, "stream": cls.stream, "payload": payload}
        left = [group for group in previous_groups if group not in groups]
        farewell = {**message, "payload": {**payload, "action": "delete"}}

        def send_after_commit() -> None:
            cls._send(groups, message)
            cls._send(left, farewell)

        if groups or left:
            transaction.on_commit(send_after_commit, using=instance._state.db or "default")

    @classmethod
    def _send(cls, groups: list[str], message: dict[str, Any]) -> None:
        if not groups:
            return
        try:
            layer = get_channel_layer(cls.channel_layer_alias)
            if layer is None:
                raise ValueError(f"no channel layer {cls.channel_layer_alias!r} is configured")
            for group in groups:
                async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.exception(
                "%s could not broadcast %s to %s", cls.__qualname__, message["payload"], groups
            )
