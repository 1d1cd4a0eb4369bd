"""Pin the public surface of asgi_ipc (like httpx's test_exported_members)."""

from __future__ import annotations

import asgi_ipc
import asgi_ipc.core
from asgiref.layers import BaseChannelLayer, ChannelFull


def test_package_exports() -> None:
    assert asgi_ipc.__all__ == ["IPCChannelLayer", "__version__"]
    assert isinstance(asgi_ipc.__version__, str)
    # The Channels 1 era backend path keeps working.
    assert asgi_ipc.IPCChannelLayer is asgi_ipc.core.IPCChannelLayer


def test_core_exports() -> None:
    assert sorted(asgi_ipc.core.__all__) == ["IPCChannelLayer", "LockTimeout", "SharedMemoryFull"]
    for name in asgi_ipc.core.__all__:
        assert getattr(asgi_ipc.core, name).__module__.startswith("asgi_ipc")


def test_layer_is_a_base_channel_layer_with_groups_and_flush() -> None:
    assert issubclass(asgi_ipc.core.IPCChannelLayer, BaseChannelLayer)
    assert asgi_ipc.core.IPCChannelLayer.extensions == ["groups", "flush"]
    assert issubclass(asgi_ipc.core.SharedMemoryFull, ChannelFull)


def test_construction_touches_no_shared_memory(tmp_path: object) -> None:
    import os

    before = set(os.listdir("/dev/shm"))
    layer = asgi_ipc.core.IPCChannelLayer(prefix="never-attached")
    assert layer.client_prefix
    assert not {name for name in set(os.listdir("/dev/shm")) - before if "never-attached" in name}


def test_importing_every_module_has_no_side_effects() -> None:
    import subprocess
    import sys

    script = (
        "import os, pkgutil, importlib, threading, sys\n"
        "import asgi_ipc\n"
        "before = set(os.listdir('/dev/shm'))\n"
        "for info in pkgutil.iter_modules(asgi_ipc.__path__):\n"
        "    importlib.import_module('asgi_ipc.' + info.name)\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert set(os.listdir('/dev/shm')) - before == set()\n"
        "assert 'django' not in sys.modules and 'channels' not in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
