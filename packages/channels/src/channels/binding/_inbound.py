"""Inbound binding: a WebSocket consumer that applies create/update/delete frames.

Client frames: ``{"action": "create", "data": {...}}``,
``{"action": "update", "pk": 1, "data": {...}}``, ``{"action": "delete", "pk": 1}``.
Every frame gets one reply: ``{"reply": action, "pk": pk}`` on success, or
the same with ``"error"`` (and ``"errors"`` per field for invalid data).
Invariants: nothing is written unless :meth:`WebsocketBinding.has_permission`
said yes; data is validated by a ``ModelForm`` limited to the binding's
editable fields (an excluded field can never be written); a bad frame gets
an error reply and the socket keeps serving.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import models, transaction
from django.forms import ModelForm, model_to_dict, modelform_factory

from .._db import database_sync_to_async
from ..generic._websocket import AsyncJsonWebsocketConsumer
from ._outbound import Binding

__all__ = ["ACTIONS", "BindingError", "WebsocketBinding"]

ACTIONS = ("create", "update", "delete")


class BindingError(Exception):
    """A frame cannot be applied; ``errors`` holds per-field messages if any."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors


class WebsocketBinding(Binding, AsyncJsonWebsocketConsumer):
    """A binding that is also a JSON WebSocket consumer (use it as a multiplexer stream).

    Joins ``groups`` on connect and forwards this binding's events to the
    client; applies the client's action frames after :meth:`has_permission`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # binding_event is a channel-layer handler, not consumer API.
        cls._framework_names = cls._framework_names - {"binding_event"}

    def has_permission(self, user: Any, action: str, pk: Any) -> bool:
        """May *user* (``scope["user"]``, None without auth) do *action* on *pk*? Default: no."""
        return False

    async def binding_event(self, message: dict[str, Any]) -> None:
        """Forward a binding message for this consumer's stream to the socket as JSON."""
        if message.get("stream") == self.stream:
            await self.send_json(message["payload"])

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        pk = content.get("pk") if isinstance(content, dict) else None
        try:
            action, pk, data = _parse(content)
            user = self.scope.get("user")
            allowed = await database_sync_to_async(self.has_permission)(user, action, pk)
            if not allowed:
                raise BindingError(f"permission denied: {action} on {self.stream} pk={pk!r}")
            pk = await database_sync_to_async(self.apply)(action, pk, data)
        except BindingError as exc:
            reply: dict[str, Any] = {"reply": action, "pk": pk, "error": str(exc)}
            if exc.errors:
                reply["errors"] = exc.errors
            await self.send_json(reply)
            return
        await self.send_json({"reply": action, "pk": pk})

    def editable_fields(self) -> list[str]:
        """The fields a client may write: ``field_names()`` that are editable in the model.

        A create or update naming any other field is refused with a ``BindingError``.
        """
        assert self.model is not None
        editable = {f.name for f in self.model._meta.get_fields() if getattr(f, "editable", False)}
        return [name for name in self.field_names() if name in editable]

    def apply(self, action: str, pk: Any, data: dict[str, Any]) -> Any:
        """Run *action* in one transaction; return the affected primary key."""
        with transaction.atomic():
            if action == "create":
                return self._save(None, data).pk
            instance = self._get(pk)
            if action == "delete":
                instance.delete()
                return pk
            return self._save(instance, data).pk

    def _get(self, pk: Any) -> models.Model:
        assert self.model is not None
        try:
            instance: models.Model = self.model._default_manager.select_for_update().get(pk=pk)
        except (ObjectDoesNotExist, ValueError, TypeError) as exc:
            raise BindingError(f"no {self.model._meta.label_lower} with pk {pk!r}") from exc
        return instance

    def _save(self, instance: models.Model | None, data: dict[str, Any]) -> models.Model:
        fields = self.editable_fields()
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise BindingError(f"unknown or read-only fields {unknown}; writable: {fields}")
        form_class: type[ModelForm[Any]] = modelform_factory(self.model, fields=fields)  # type: ignore[arg-type]
        # Fields the frame leaves out keep their current value (update) or the
        # model default (create): forms do not apply model defaults themselves.
        assert self.model is not None
        current = model_to_dict(instance if instance is not None else self.model(), fields=fields)
        form = form_class(data={**current, **data}, instance=instance)
        if not form.is_valid():
            errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
            raise BindingError("invalid data", errors)
        saved: models.Model = form.save()
        return saved


def _parse(content: Any) -> tuple[str, Any, dict[str, Any]]:
    if not isinstance(content, dict):
        raise BindingError(
            f'expected {{"action": ..., "pk": ..., "data": {{...}}}}, got {content!r:.80}'
        )
    action = content.get("action")
    if action not in ACTIONS:
        raise BindingError(f"action must be one of {list(ACTIONS)}, got {action!r}")
    pk = content.get("pk")
    if action != "create" and pk is None:
        raise BindingError(f"{action} needs a 'pk'")
    data = content.get("data", {})
    if not isinstance(data, dict):
        raise BindingError(f"'data' must be an object, got {type(data).__name__}")
    if action == "create" and not data:
        raise BindingError("create needs 'data'")
    return action, pk, data
