"""The README's adoption examples define classes the suite accepts as written.

They are templates for another project (a layer class and a broker that only exist there),
so their tests are not run here; what runs is each block itself, checked against the suite:
the base classes they import exist, the capabilities they claim are ones the suite knows,
``layer_kwargs`` survives JSON as the peer process needs, and the restart example
overrides the hook ``BrokerRestartTests`` calls.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from asgi_conformance import ALL_CAPABILITIES, BrokerRestartTests, LayerConformance

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _run(block: str, **names: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "readme_example", **names}
    exec(compile(block, "conformance/README.md", "exec"), namespace)
    return namespace


def test_the_readme_has_the_two_adoption_examples() -> None:
    assert len(BLOCKS) == 2, [block.splitlines()[0] for block in BLOCKS]


def test_the_adoption_example_subclasses_the_suite_with_known_capabilities() -> None:
    cls = _run(BLOCKS[0])["TestMyLayerConformance"]
    assert issubclass(cls, LayerConformance)
    assert cls.capabilities <= ALL_CAPABILITIES, cls.capabilities - ALL_CAPABILITIES
    assert json.loads(json.dumps(cls.layer_kwargs)) == cls.layer_kwargs
    assert cls.layer_path.count(".") >= 1


def test_the_restart_example_overrides_the_restart_hook() -> None:
    # The block is a fragment of a test module: it relies on that module's imports.
    cls = _run(BLOCKS[1], pytest=pytest, BrokerRestartTests=BrokerRestartTests)[
        "TestMyLayerRestart"
    ]
    assert issubclass(cls, BrokerRestartTests)
    assert "restartable" in cls.capabilities
    assert cls.capabilities <= ALL_CAPABILITIES
    assert cls.restart_broker is not BrokerRestartTests.restart_broker
