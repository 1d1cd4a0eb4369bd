"""ServerConfig refuses values that cannot work."""

from __future__ import annotations

import pytest
from daphne._config import ServerConfig


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="window_bits"):
        ServerConfig(websocket_deflate_window_bits=20)
    with pytest.raises(ValueError, match="max_headers"):
        ServerConfig(max_headers=0)
