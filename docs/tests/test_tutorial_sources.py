"""The tutorial's code comes from examples/chat, by include, so it cannot drift.

The build (``-W``) already fails when an included file, class, function or marker
disappears; this test makes sure no page copies code in instead of including it.
"""

from __future__ import annotations

from pathlib import Path

from _fences import blocks as _blocks

DOCS = Path(__file__).resolve().parent.parent

TUTORIAL = DOCS / "tutorial"
SHELL = {"console", "sh", "bash", "shell"}


def test_tutorial_has_five_parts() -> None:
    assert sorted(p.name for p in TUTORIAL.glob("part-*.md")) == [
        f"part-{n}.md" for n in range(1, 6)
    ]


def test_every_code_block_is_included_from_examples_chat() -> None:
    copied = []
    includes = 0
    for page in sorted(TUTORIAL.glob("*.md")):
        for line, info, _code in _blocks(page.read_text()):
            if info.startswith("{literalinclude}"):
                target = (page.parent / info.split(None, 1)[1]).resolve()
                assert target.is_relative_to(DOCS.parent / "examples" / "chat"), (page, line)
                assert target.exists(), f"{page.name}:{line}: {target} does not exist"
                includes += 1
            elif info in SHELL or info.startswith(("{toctree}", "{graphviz}")):
                continue
            else:
                copied.append(f"{page.name}:{line} ({info or 'no language'})")
    assert not copied, "code written into the tutorial instead of included: " + ", ".join(copied)
    assert includes >= 15, includes


def test_includes_name_what_they_show_not_line_numbers() -> None:
    """Line numbers drift silently when the example changes; markers and names fail loudly."""
    for page in sorted(TUTORIAL.glob("*.md")):
        assert ":lines:" not in page.read_text(), page.name
        assert ":emphasize-lines:" not in page.read_text(), page.name
