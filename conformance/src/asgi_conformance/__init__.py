"""The channel-layer specification as an executable pytest suite.

Adopt it with one subclass in your test suite::

    from asgi_conformance import LayerConformance

    class TestMyLayerConformance(LayerConformance):
        layer_path = "my_layer.core.MyChannelLayer"
        layer_kwargs = {"hosts": ["redis://127.0.0.1:6379/0"]}
        capabilities = frozenset({"groups", "flush", "capacity"})

The guarantees the tests check are written down in this package's README.
"""

from ._cancellation import CancellationTests
from ._channels import ChannelTests
from ._cross_process import CrossProcessTests
from ._groups import GroupTests
from ._harness import CAPABILITIES, Harness
from ._limits import LimitTests
from ._local import LocalChannelTests
from ._restart import BrokerRestartTests
from ._sync import SyncUsageTests
from ._teardown import TeardownTests
from ._validation import ValidationTests

__version__ = "0.1.0"

__all__ = [
    "ALL_CAPABILITIES",
    "CAPABILITIES",
    "BrokerRestartTests",
    "CancellationTests",
    "ChannelTests",
    "CrossProcessTests",
    "GroupTests",
    "Harness",
    "LayerConformance",
    "LimitTests",
    "LocalChannelTests",
    "SyncUsageTests",
    "TeardownTests",
    "ValidationTests",
    "__version__",
]

#: Every capability the suite knows; a layer that implements everything claims these.
ALL_CAPABILITIES: frozenset[str] = frozenset(CAPABILITIES)


class LayerConformance(
    ChannelTests,
    ValidationTests,
    LocalChannelTests,
    GroupTests,
    LimitTests,
    CancellationTests,
    CrossProcessTests,
    SyncUsageTests,
    TeardownTests,
    BrokerRestartTests,
):
    """The whole conformance suite. Subclass it as ``Test...`` to run it.

    Set ``layer_path``, ``layer_kwargs`` and ``capabilities``; optionally
    override ``make_layer``, ``cancel_iterations`` and ``expiry_seconds``, and
    ``restart_broker`` when claiming ``restartable``.
    """

    __test__ = False
