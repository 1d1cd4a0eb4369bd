"""Every internal link of the built site reaches an existing page and anchor.

Sphinx's ``linkcheck`` builder needs the network; internal links are checked here,
offline, on the HTML that readers get (nitpicky mode already checks cross-references).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(str(values[key]))
        for key in ("href", "src"):
            target = values.get(key)
            if target and not (tag == "link" and values.get("rel") in ("canonical",)):
                self.links.append(target)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _internal(link: str) -> bool:
    parts = urlsplit(link)
    return not parts.scheme and not parts.netloc and not link.startswith(("mailto:", "data:"))


def test_every_internal_link_and_anchor_resolves(html_dir: Path) -> None:
    pages = {path: _parse(path) for path in html_dir.rglob("*.html")}
    assert len(pages) > 20, f"only {len(pages)} pages were built"
    broken = []
    for path, page in pages.items():
        for link in page.links:
            if not _internal(link):
                continue
            parts = urlsplit(link)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(html_dir)}: {link} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{path.relative_to(html_dir)}: {link} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(sorted(set(broken)))


def test_the_checker_notices_a_broken_anchor(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<a href="other.html#nope">x</a>' * 1)
    (tmp_path / "other.html").write_text('<h1 id="yes">y</h1>')
    page = _parse(tmp_path / "index.html")
    assert page.links == ["other.html#nope"]
    assert "nope" not in _parse(tmp_path / "other.html").ids
