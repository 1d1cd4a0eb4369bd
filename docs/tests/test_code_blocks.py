"""Every runnable Python code block in the site's own pages runs, as a test.

The convention, for page authors: a plain ```` ```python ```` fence is runnable and must
run as written (blocks of one page share a namespace, top to bottom, like a doctest
session); a fragment that needs a project around it is written as
```` ```{code-block} python ```` with a ``:caption:`` starting with "illustrative", and is
not run. Code in the tutorial is not written in the pages at all: it is included from
examples/chat, whose own tests run it (see test_tutorial_sources.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _fences import blocks as _blocks

DOCS = Path(__file__).resolve().parent.parent

#: Markdown pages in docs/ that other people own and that are not (yet) written to this
#: convention; their examples are fragments of settings and routing. (tasks.md follows it
#: now: its settings block runs, its other fragment is marked illustrative.)
NOT_OURS = {"README.md", "compatibility.md", "deployment.md"}


def _pages() -> list[Path]:
    pages = []
    for path in sorted(DOCS.rglob("*.md")):
        rel = path.relative_to(DOCS)
        if rel.parts[0] in ("_build", "tests") or str(rel) in NOT_OURS:
            continue
        pages.append(path)
    return pages


def _runnable(path: Path) -> list[tuple[int, str]]:
    return [(line, code) for line, info, code in _blocks(path.read_text()) if info == "python"]


PAGES = [p for p in _pages() if _runnable(p)]


def test_some_pages_have_runnable_examples() -> None:
    assert len(PAGES) >= 5, [str(p) for p in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_examples_run(page: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_example_{page.stem.replace('-', '_')}"}
    for line, code in _runnable(page):
        compiled = compile(code, f"{page.relative_to(DOCS)}:{line}", "exec")
        exec(compiled, namespace)


def test_python_fragments_are_marked_illustrative() -> None:
    """A Python block that is not runnable says so, so readers know not to paste it alone."""
    unmarked = []
    for page in _pages():
        text = page.read_text()
        for line, info, code in _blocks(text):
            python_fragment = info.startswith("{code-block}") and "python" in info
            if python_fragment and not re.search(r"^:caption: illustrative", code, re.M):
                unmarked.append(f"{page.relative_to(DOCS)}:{line}")
    assert not unmarked, "Python blocks neither runnable nor marked illustrative: " + ", ".join(
        unmarked
    )


def test_the_collector_finds_fences() -> None:
    text = "x\n```python\nprint(1)\n```\n```{code-block} python\n:caption: illustrative\ny\n```\n"
    assert [info for _, info, _ in _blocks(text)] == ["python", "{code-block} python"]


def test_the_tasks_page_settings_build_the_backend_they_name() -> None:
    """tasks.md's TASKS setting is accepted by the backend it names, options and queues."""
    from django.utils.module_loading import import_string

    namespace: dict[str, object] = {}
    for _, code in _runnable(DOCS / "tasks.md"):
        exec(compile(code, "tasks.md", "exec"), namespace)
    config = namespace["TASKS"]["default"]  # type: ignore[index]
    backend = import_string(config["BACKEND"])("default", config)
    assert backend.channel_layer_alias == config["OPTIONS"]["CHANNEL_LAYER"]
    assert backend.result_database == config["OPTIONS"]["RESULT_DATABASE"]
    assert backend.queues == set(config["QUEUES"])
    assert "channels.tasks" in namespace["INSTALLED_APPS"]  # type: ignore[operator]
