"""The abstract channel-layer interface and the in-memory layer.

Backends subclass :class:`BaseChannelLayer` (or :class:`SerializingChannelLayer`,
whose ``send``/``group_send`` template validates, encodes and size-checks before the
backend's own transport runs) and reuse the pure rules here: names (including how a
process-local name is made and split), messages, capacity patterns and serializers.
"""

from typing import TYPE_CHECKING

from ._base import BaseChannelLayer, ChannelLayer
from ._capacity import CapacityMatcher, CapacityPattern, compile_capacities
from ._errors import (
    ChannelFull,
    InvalidChannelLayerError,
    InvalidChannelName,
    InvalidGroupName,
    InvalidMessage,
    MessageTooLarge,
)
from ._message import validate_message
from ._names import (
    DEFAULT_CHANNEL_PREFIX,
    MAX_NAME_LENGTH,
    is_process_local,
    is_valid_channel_name,
    is_valid_group_name,
    non_local_name,
    process_local_name,
    require_valid_channel_name,
    require_valid_channel_names,
    require_valid_group_name,
    split_process_local,
)
from ._serializers import (
    JSONSerializer,
    MsgPackSerializer,
    Serializer,
    get_serializer,
    register_serializer,
)
from ._serializing import SerializingChannelLayer

if TYPE_CHECKING:  # type checkers see the class; at runtime it loads on first use
    from ._memory import InMemoryChannelLayer

__all__ = [
    "DEFAULT_CHANNEL_PREFIX",
    "MAX_NAME_LENGTH",
    "BaseChannelLayer",
    "CapacityMatcher",
    "CapacityPattern",
    "ChannelFull",
    "ChannelLayer",
    "InMemoryChannelLayer",
    "InvalidChannelLayerError",
    "InvalidChannelName",
    "InvalidGroupName",
    "InvalidMessage",
    "JSONSerializer",
    "MessageTooLarge",
    "MsgPackSerializer",
    "Serializer",
    "SerializingChannelLayer",
    "compile_capacities",
    "get_serializer",
    "is_process_local",
    "is_valid_channel_name",
    "is_valid_group_name",
    "non_local_name",
    "process_local_name",
    "register_serializer",
    "require_valid_channel_name",
    "require_valid_channel_names",
    "require_valid_group_name",
    "split_process_local",
    "validate_message",
]


def __getattr__(name: str) -> object:
    # The in-memory layer is loaded on first use so that backends importing the
    # interface do not pay for it.
    if name == "InMemoryChannelLayer":
        from ._memory import InMemoryChannelLayer

        return InMemoryChannelLayer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
