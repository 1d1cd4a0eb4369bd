"""The send template shared by layers that carry messages as bytes.

``send`` and ``group_send`` do the same four steps in every such layer, in this
order, and only the last one touches the network (or shared memory):

1. the name is validated (``InvalidChannelName`` / ``InvalidGroupName``);
2. the message is validated and serialized (:meth:`~SerializingChannelLayer.encode_message`:
   ``InvalidMessage`` names what cannot be carried);
3. the payload is checked against :meth:`~SerializingChannelLayer.max_message_size`
   (``MessageTooLarge``);
4. the payload goes to the layer's own transport: :meth:`~SerializingChannelLayer.send_payload`
   or :meth:`~SerializingChannelLayer.group_send_payload`.

A failure in steps 1-3 sends nothing, so a bad call never leaves half a message behind.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._base import BaseChannelLayer
from ._errors import MessageTooLarge
from ._message import validate_message
from ._names import require_valid_channel_name, require_valid_group_name
from ._serializers import Serializer

__all__ = ["SerializingChannelLayer"]


class SerializingChannelLayer(BaseChannelLayer):
    """Base class for layers that move serialized messages.

    Subclasses set ``self.serializer`` (or override :meth:`serialize`) and implement
    :meth:`send_payload` (and :meth:`group_send_payload` with the ``groups``
    extension); ``send`` and ``group_send`` are the template above.
    """

    serializer: Serializer
    #: Whether values are checked against the bundled serializers' types before
    #: serializing. Off by default: the layer's serializer is the judge, and its
    #: error still names the offending key.
    check_values: bool = False
    #: Where the size limit comes from, for the ``MessageTooLarge`` message.
    message_size_source: ClassVar[str] = ""

    # Steps 2 and 3 -------------------------------------------------------------

    def serialize(self, message: dict[str, Any]) -> bytes:
        """The payload of *message* (``self.serializer`` by default)."""
        return self.serializer.serialize(message)

    def encode_message(self, message: dict[str, Any]) -> bytes:
        """Validate *message* and return its payload; nothing is sent."""
        validate_message(message, check_values=self.check_values)
        return self.serialize(message)

    def max_message_size(self) -> int | None:
        """The largest payload the transport carries, in bytes (``None``: no limit)."""
        return None

    def check_message_size(self, payload: bytes) -> bytes:
        """Return *payload*, or raise ``MessageTooLarge`` if the transport cannot carry it."""
        limit = self.max_message_size()
        if limit is not None and len(payload) > limit:
            source = f" ({self.message_size_source})" if self.message_size_source else ""
            raise MessageTooLarge(
                f"a message serializes to {len(payload)} bytes; this layer carries at most "
                f"{limit}{source}"
            )
        return payload

    # The template ----------------------------------------------------------------

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        require_valid_channel_name(channel)
        payload = self.check_message_size(self.encode_message(message))
        await self.send_payload(channel, payload)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        require_valid_group_name(group)
        payload = self.check_message_size(self.encode_message(message))
        await self.group_send_payload(group, payload)

    # Step 4: the layer's own transport -------------------------------------------

    async def send_payload(self, channel: str, payload: bytes) -> None:
        """Deliver *payload* to the valid channel name *channel*."""
        raise NotImplementedError("send_payload() needs to be implemented by the layer")

    async def group_send_payload(self, group: str, payload: bytes) -> None:
        """Deliver *payload* to every member of the valid group name *group*."""
        raise NotImplementedError("This layer does not support groups")
