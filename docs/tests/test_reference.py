"""Every name in every public module's ``__all__`` is documented in the API reference.

Reads the inventory Sphinx wrote (objects.inv), i.e. what the reference really contains,
not what the generator meant to put there.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import apiref
from sphinx.util.inventory import InventoryFile


def _inventory(html_dir: Path) -> set[str]:
    with (html_dir / "objects.inv").open("rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    return {
        name for kind, entries in inventory.items() if kind.startswith("py:") for name in entries
    }


def test_every_public_name_appears_in_the_reference(html_dir: Path) -> None:
    documented = _inventory(html_dir)
    missing = []
    checked = 0
    for package, _ in apiref.PACKAGES.values():
        for module in apiref.public_modules(package):
            assert module in documented, f"module {module} is not in the reference"
            for name in getattr(importlib.import_module(module), "__all__", ()):
                # Underscored names are private whatever __all__ says (a compatibility
                # shim); __version__ is on the changelog page rather than in the reference.
                if name.startswith("_"):
                    continue
                checked += 1
                if f"{module}.{name}" not in documented:
                    missing.append(f"{module}.{name}")
    assert checked > 200, f"only {checked} public names found: is __all__ being read?"
    assert not missing, "public names missing from the reference:\n" + "\n".join(missing)


def test_each_package_has_a_reference_page(html_dir: Path) -> None:
    for package, _ in apiref.PACKAGES.values():
        assert (html_dir / "reference" / "api" / f"{package}.html").exists(), package
