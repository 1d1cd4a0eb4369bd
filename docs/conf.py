"""Sphinx configuration for the documentation site (``nox -s docs`` builds it).

The site is assembled, as far as possible, from files that already exist elsewhere in
the repository: package READMEs and CHANGELOGs and the markdown pages in ``docs/`` are
included, the tutorial's code comes from ``examples/chat`` by ``literalinclude``, and the
API reference is generated from the packages' ``__all__`` and docstrings at build time
(``_ext/apiref.py``). Nothing here copies text that lives somewhere else.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "Django Channels (monorepo)"
author = "the Channels monorepo contributors"
copyright = "the Channels monorepo contributors; BSD-3-Clause"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.graphviz",
    "djangosetup",  # before autodoc imports anything: configures Django for channels/daphne
    "apiref",  # generates reference/api/*.rst and warns on undocumented public names
    "benchcharts",  # bench-chart: SVG bar charts drawn from the README benchmark tables
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"

exclude_patterns = [
    "_build",
    "README.md",  # how to build these docs: for contributors, not a page of the site
    "tests",
]

# --------------------------------------------------------------------------- MyST
myst_enable_extensions = ["colon_fence", "deflist", "substitution", "attrs_block"]
myst_heading_anchors = 3

_GATEWAY_PAGE = DOCS / "deployment.md"
myst_substitutions = {
    # docs/deployment.md (the zero-downtime gateway mode) is written by someone else and
    # may not exist yet: link it when it does, never a dangling link.
    "gateway_link": (
        "[the gateway deployment guide](/deployment.md)"
        if _GATEWAY_PAGE.exists()
        else "the gateway deployment guide (not written yet)"
    ),
}

# --------------------------------------------------------------------------- checks
nitpicky = True
nitpick_ignore_regex = [
    # Third-party types in signatures: there is no network at build time, so no
    # intersphinx inventories for them.
    (r"py:.*", r"(django|twisted|autobahn|zope|aio_pika|aiormq|redis|msgpack|cryptography)\..*"),
    (r"py:.*", r"(h2|httptools|uvloop|pytest|_pytest|hypothesis|selenium|websockets)\..*"),
    # The standard library: same reason (no intersphinx for docs.python.org offline).
    (r"py:.*", r"(asyncio|collections|concurrent|contextvars|socket|ssl|threading|types)\..*"),
    (r"py:.*", r"(typing|typing_extensions|logging|pathlib|multiprocessing|enum|json)\..*"),
    (r"py:.*", r"(argparse|datetime|queue|re|io|os|sys|weakref|ipaddress|abc|http|uuid)\..*"),
    (r"py:.*", r"(Any|Callable|Awaitable|Coroutine|Mapping|Iterable|Iterator|Sequence)"),
    (r"py:.*", r"(AsyncIterator|AsyncGenerator|Generator|MutableMapping|TypeVar|ParamSpec)"),
    (r"py:.*", r"(NoneType|Ellipsis|EllipsisType|ModuleType|TracebackType|BaseException)"),
    (r"py:.*", r"(Exception|int|str|bytes|float|bool|dict|list|tuple|set|frozenset|object)"),
    (r"py:.*", r"(type|bytearray|memoryview|Self|Literal|Protocol|Required)"),
    (r"py:.*", r"(models|_asyncio|functools|urllib)\..*"),
    # Type variables (``R``, ``_T``, ``channels._db.R``): not documented objects.
    (r"py:.*", r"(.*\.)?_?[A-Z]"),
    # Generic names that only exist under TYPE_CHECKING (django.tasks' Task, TaskResult).
    (r"py:class", r"(Task|TaskResult|AnyTask|AnyResult|CapacityPattern)"),
    # Private types with no public name (``asgi_conformance.server._kit.Kit``): the
    # signature shows them unlinked. apiref.resolve_private links every private path that
    # does have a public name, so this only hides what is not part of the API.
    (r"py:.*", r"[a-z_]+(\.[A-Za-z0-9_]+)*\._[A-Za-z0-9_]+\.[A-Za-z0-9_.]+"),
    # Markdown links from included READMEs and pages to files outside docs/ (a docname
    # outside the source directory is absolute): the site holds only docs/, so MyST
    # renders them as plain text, with no dangling href.
    ("myst", r"/.*"),
]

suppress_warnings = [
    # "more than one target found": a bare ``bytes`` or ``type`` in an annotation also
    # matches the ASGI TypedDicts' fields of that name (asgiref.typing); Python's own
    # meaning is the intended one. Missing targets (ref.class, ref.obj...) still fail.
    "ref.python",
]

# --------------------------------------------------------------------------- autodoc
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = False
autoclass_content = "class"

# --------------------------------------------------------------------------- graphviz
graphviz_output_format = "svg"

# --------------------------------------------------------------------------- HTML
html_theme = "furo"
html_title = "Django Channels"
html_static_path: list[str] = []
html_show_sourcelink = False
