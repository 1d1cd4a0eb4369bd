"""The API reference, generated from the code at build time.

On ``builder-inited`` this writes one page per package into ``reference/api/`` (ignored
by git): one ``automodule`` per public module, found by walking the package, so a new
public module joins the reference without anyone editing the docs. autodoc documents
exactly the names in each module's ``__all__``.

It also turns a public name without a docstring into a build warning (and so, with
``-W``, into a failed build), and resolves type hints written against private modules
(``asgiref.layers._base.BaseChannelLayer``) to the public name documented for the same
object, so nitpicky mode stays useful without documenting private paths.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

from sphinx.util import logging
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

#: Distribution title -> (import package, its src directory relative to the repository).
PACKAGES: dict[str, tuple[str, str]] = {
    "asgiref": ("asgiref", "packages/asgiref/src"),
    "channels": ("channels", "packages/channels/src"),
    "daphne": ("daphne", "packages/daphne/src"),
    "asgi-redis": ("asgi_redis", "packages/asgi_redis/src"),
    "asgi-rabbitmq": ("asgi_rabbitmq", "packages/asgi_rabbitmq/src"),
    "asgi-ipc": ("asgi_ipc", "packages/asgi_ipc/src"),
    "asgi-conformance": ("asgi_conformance", "conformance/src"),
}

#: Public modules left out of the reference, each with the reason.
EXCLUDED: dict[str, str] = {
    # Gateway mode is being written right now in packages/daphne/src/daphne/gateway/;
    # its reference joins when that work lands and its docstrings are settled.
    "daphne.gateway": "work in progress elsewhere",
}

OUT_DIR = "reference/api"


def public_modules(package: str) -> list[str]:
    """Every importable public module of ``package``: no path component starts with ``_``."""
    root = importlib.import_module(package)
    found = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts):
            continue
        # Django migrations and the server kit's pytest modules (test_*.py) are importable
        # but not API: nobody calls them, Django and pytest load them.
        if "migrations" in parts or parts[-1].startswith("test_"):
            continue
        if any(info.name == ex or info.name.startswith(ex + ".") for ex in EXCLUDED):
            continue
        found.append(info.name)
    return sorted(found)


def explicit_members(module: str) -> list[tuple[str, str]]:
    """(directive, name) for ``__all__`` names that ``automodule`` would miss.

    autodoc finds data only where it is assigned in the module's own source, and finds
    nothing that a module provides lazily through ``__getattr__``. Such names (a
    re-exported constant, a registry instance, a lazily imported class) are listed
    explicitly: ``auto*`` where the object can carry its own docstring, a bare
    ``py:data`` for re-exported constants and type aliases, which cannot. Data assigned
    here without a docstring is listed too, so that it is reported as undocumented.
    """
    mod = importlib.import_module(module)
    try:
        tree = ast.parse(inspect.getsource(mod))
    except (OSError, TypeError):
        tree = ast.Module(body=[], type_ignores=[])
    assigned, annotated = set(), set()
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.AnnAssign)
            and stmt.value is None
            and isinstance(stmt.target, ast.Name)
        ):
            # autodoc documents annotated names itself, even when __getattr__ provides them.
            annotated.add(stmt.target.id)
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        if isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        assigned |= {t.id for t in targets if isinstance(t, ast.Name)}
    try:
        from sphinx.pycode import ModuleAnalyzer

        attr_docs = {key[1] for key in ModuleAnalyzer.for_module(module).find_attr_docs()}
    except Exception:
        attr_docs = set()
    found = []
    for name in getattr(mod, "__all__", ()):
        if name.startswith("_") or name in annotated:
            continue
        obj = getattr(mod, name, None)
        # autodoc enumerates a module's members with dir(): a name missing from it (a lazy
        # __getattr__ without a matching __dir__) is never documented by automodule.
        lazy = name not in dir(mod)
        if inspect.isclass(obj):
            if lazy:
                found.append(("alias", name))
        elif inspect.isroutine(obj):
            if lazy:
                found.append(("autofunction", name))
        elif inspect.ismodule(obj):
            continue
        elif name in assigned and name not in attr_docs and _no_own_doc(obj) and not callable(obj):
            # autodoc leaves out module data with neither docstring nor ``#:`` comment,
            # even with undoc-members; listing it makes the missing docstring a warning.
            found.append(("autodata", name))
        elif name not in assigned:
            ours = type(obj).__module__.split(".")[0] == module.split(".")[0]
            found.append(("autodata" if ours else "py:data", name))
    return found


def check_backlog(app: Any, exception: Exception | None) -> None:
    """A backlog line naming something the reference no longer shows is a warning too."""
    seen = getattr(app.env, "apiref_seen", None)
    if exception is not None or not seen:
        return
    for name in sorted(app.config.apiref_backlog - seen):
        logger.warning(
            "%s is not in the reference any more: remove it from %s",
            name,
            BACKLOG.name,
            type="apiref",
            subtype="backlog",
        )


def _no_own_doc(obj: Any) -> bool:
    return getattr(obj, "__doc__", None) in (None, type(obj).__doc__)


def _page(title: str, package: str, modules: list[str]) -> str:
    lines = [title, "=" * len(title), "", ".. This page is generated by docs/_ext/apiref.py.", ""]
    for module in modules:
        lines += [f"``{module}``", "-" * (len(module) + 4), "", f".. automodule:: {module}", ""]
        for directive, name in explicit_members(module):
            if directive == "alias":
                cls = getattr(importlib.import_module(module), name)
                lines += [
                    f".. py:class:: {name}",
                    "",
                    "   The same class as"
                    f" :class:`{cls.__module__}.{cls.__qualname__}`, importable from here"
                    " too.",
                    "",
                ]
            elif directive == "py:data":
                lines += [
                    f".. py:data:: {name}",
                    "",
                    "   Re-exported constant or type alias; see the module description.",
                    "",
                ]
            else:
                lines += [f".. {directive}:: {module}.{name}", ""]
                if directive == "autodata":
                    lines += ["   :no-value:", ""]
    return "\n".join(lines)


def write_pages(app: Any) -> None:
    out = Path(app.srcdir) / OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for title, (package, _) in PACKAGES.items():
        target = out / f"{package}.rst"
        wanted.add(target.name)
        text = _page(title, package, public_modules(package))
        # Rewrite only on change: an unchanged mtime keeps incremental builds incremental.
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
    for stale in out.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()


_DOCUMENTED_KINDS = {
    "module",
    "class",
    "exception",
    "function",
    "method",
    "data",
    "attribute",
    "property",
    "decorator",
}


#: Public names still waiting for a docstring, one per line (a ratchet: the build fails on
#: any other undocumented name, and on a listed name that has gained its docstring, so the
#: list only ever shrinks).
BACKLOG = Path(__file__).with_name("undocumented.txt")


def _backlog() -> set[str]:
    if not BACKLOG.exists():
        return set()
    lines = (line.strip() for line in BACKLOG.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


#: Attributes Django generates on every model (DoesNotExist..., and get_next_by_<field>
#: for date fields): documented by Django, not by us.
_DJANGO_GENERATED = re.compile(
    r"get_(next|previous)_by_\w+|DoesNotExist|MultipleObjectsReturned|NotUpdated"
)


def warn_undocumented(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """A public name with no docstring is a warning (an error under ``-W``)."""
    if what not in _DOCUMENTED_KINDS:
        return
    leaf = name.rsplit(".", 1)[-1]
    if leaf.startswith("_") and not (leaf.startswith("__") and leaf.endswith("__")):
        return
    if _DJANGO_GENERATED.fullmatch(leaf):
        return
    seen: set[str] = getattr(app.env, "apiref_seen", set())
    app.env.apiref_seen = seen
    seen.add(name)
    if any(line.strip() for line in lines):
        if name in app.config.apiref_backlog:
            logger.warning(
                "%s has a docstring now: remove it from %s",
                name,
                BACKLOG.name,
                type="apiref",
                subtype="backlog",
            )
        return
    if name not in app.config.apiref_backlog:
        logger.warning(
            "public name %s (%s) has no docstring",
            name,
            what,
            type="apiref",
            subtype="undocumented",
        )


def resolve_private(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Point a reference to ``pkg._private.Name`` at the public name of the same object."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not any(part.startswith("_") for part in target.split(".")[:-1]):
        return None
    obj = _lookup(target)
    if obj is None:
        return None
    leaf = target.rsplit(".", 1)[-1]
    domain = env.get_domain("py")
    candidates = sorted(
        (name for name in domain.objects if name.rsplit(".", 1)[-1] == leaf),
        key=len,
    )
    for name in candidates:
        if _lookup(name) is obj:
            entry = domain.objects[name]
            return make_refnode(
                app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name
            )
    return None


def _lookup(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _public_canonical(base: type) -> type:
    """A py:class/py:exception directive without autodoc's ``:canonical:`` path.

    autodoc records where a re-exported class really lives (``asgiref.layers._errors``,
    or ``asgiref.layers`` for ``channels.layers.InMemoryChannelLayer``); when two public
    modules show the same class, both register that path and Sphinx reports a duplicate.
    Each public name is documented where it is exported instead, and
    :func:`resolve_private` maps references to private paths onto a public name.
    """

    class PublicCanonical(base):  # type: ignore[misc,valid-type]
        def run(self) -> Any:
            self.options.pop("canonical", None)
            return super().run()

    return PublicCanonical


def setup(app: Any) -> dict[str, Any]:
    from sphinx.domains.python import PyClasslike

    for kind in ("class", "exception"):
        app.add_directive_to_domain("py", kind, _public_canonical(PyClasslike), override=True)
    app.add_config_value("apiref_backlog", _backlog(), "env")
    app.connect("builder-inited", write_pages)
    app.connect("autodoc-process-docstring", warn_undocumented)
    app.connect("build-finished", check_backlog)
    app.connect("missing-reference", resolve_private)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
