"""The benchmark charts: read from the README tables, and on the built page as the tables say."""

from __future__ import annotations

import re
from pathlib import Path

import benchcharts
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

README = """# pkg

## Benchmarks

Some prose on the shared 2-core
machine, 2026-01-02:

    .venv/bin/python bench/first.py --rounds 3

| measure | ratio |
| --- | ---: |
| req/s | 1,204.5 |
| p50 / p99 ms | 0.5 / 2 |
| range | \u00d752-62 |
| prose | 0.13 of the floor at 100 |
| empty | |

```
# a comment in a code block, not a heading
```

Then `python bench/second.py` ran:

| side | tasks/s | ratio |
|---|---|---|
| one | 3 runs: 1 | 1.5x / \u00d72 / 3 µs |

## Tests

| not | here |
|---|---|
| x | 1 |
"""


def test_a_section_ends_at_the_next_heading_of_its_level_not_at_a_fenced_comment() -> None:
    text = benchcharts.section(README, "## Benchmarks")
    assert "# a comment in a code block" in text
    assert "## Tests" not in text and "not | here" not in text
    with pytest.raises(ValueError, match="no heading line"):
        benchcharts.section(README, "## Missing")


def test_tables_are_found_with_their_header_and_rows() -> None:
    found = benchcharts.tables(benchcharts.section(README, "## Benchmarks"))
    assert [rows[0] for _, rows in found] == [["measure", "ratio"], ["side", "tasks/s", "ratio"]]
    assert found[0][1][1] == ["req/s", "1,204.5"]
    assert found[0][1][-1] == ["empty", ""]


def test_only_cells_made_of_figures_give_bars() -> None:
    assert benchcharts.figures("1,204.5") == [(1204.5, "1,204.5")]
    assert benchcharts.figures("1.26x / \u00d71.07 / 252 µs / 7,410 msg/s") == [
        (1.26, "1.26x"),
        (1.07, "\u00d71.07"),
        (252.0, "252 µs"),
        (7410.0, "7,410 msg/s"),
    ]
    for cell in ("", "\u00d752-62", "0.13 of the floor at 100", "n/a", "0.1 / n/a"):
        assert benchcharts.figures(cell) == [], cell


def test_bars_of_a_table_and_how_several_figures_are_named() -> None:
    text = benchcharts.section(README, "## Benchmarks")
    (_, first), (_, second) = benchcharts.tables(text)
    bars = benchcharts.bars(first, "measure", "ratio", [])
    assert [(b.label, b.value) for b in bars] == [
        ("req/s", 1204.5),
        ("p50 ms", 0.5),
        ("p99 ms", 2.0),
    ]
    named = benchcharts.bars(second, "side", "3", ["a", "b", "c"])
    assert [b.label for b in named] == ["one, a", "one, b", "one, c"]
    with pytest.raises(ValueError, match="name them with :parts:"):
        benchcharts.bars(second, "side", "ratio", [])
    with pytest.raises(ValueError, match="not exactly one header"):
        benchcharts.bars(second, "nothing", "ratio", [])


def test_a_repeated_label_is_told_apart_by_the_row_above() -> None:
    rows = [["measure", "ratio"], ["HTTP", "1"], ["CPU", "2"], ["WS", "3"], ["CPU", "4"]]
    labels = [b.label for b in benchcharts.bars(rows, "measure", "ratio", [])]
    assert labels == ["HTTP", "CPU (HTTP)", "WS", "CPU (WS)"]


def test_the_cited_command_is_the_last_bench_command_before_the_table() -> None:
    text = benchcharts.section(README, "## Benchmarks")
    starts = [start for start, _ in benchcharts.tables(text)]
    assert benchcharts.command_before(text[: starts[0]]) == (
        ".venv/bin/python bench/first.py --rounds 3"
    )
    assert benchcharts.command_before(text[: starts[1]]) == "python bench/second.py"
    assert benchcharts.command_before("```\n$ python bench/x.py -n 1\n```\n") == (
        "python bench/x.py -n 1"
    )
    assert benchcharts.command_before("no command here") is None


def test_the_svg_has_one_bar_per_figure_scaled_to_the_largest() -> None:
    bars = [benchcharts.Bar("a", 2.0, "2"), benchcharts.Bar("b <c>", 0.5, "0.5x")]
    drawn = benchcharts.svg(bars, "t & u", reference=1.0)
    assert drawn.startswith("<svg") and drawn.endswith("</svg>")
    assert re.findall(r'data-value="([^"]+)"', drawn) == ["2", "0.5"]
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', drawn)]
    assert widths[0] == pytest.approx(4 * widths[1])
    assert "b &lt;c&gt;" in drawn and "t &amp; u" in drawn
    assert 'stroke-dasharray="4 3"' in drawn  # the reference line


def _readme_column(readme: Path, column: int) -> list[str]:
    """The cells of one column of the first table under "## Benchmarks", read plainly."""
    text = readme.read_text().split("## Benchmarks", 1)[1]
    rows = [line for line in text.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    first_table = []
    for row in cells[2:]:
        if row[0] == "configuration":  # the next table's header
            break
        first_table.append(row[column])
    return first_table


def test_the_built_page_charts_what_the_daphne_readme_table_says(html_dir: Path) -> None:
    page = (html_dir / "benchmarks.html").read_text()
    charts = re.findall(r'<svg [^>]*class="bench-chart".*?</svg>', page, re.S)
    directives = (ROOT / "docs/benchmarks.md").read_text().count("```{bench-chart}")
    assert len(charts) == directives >= 8, (len(charts), directives)
    expected = []
    for cell in _readme_column(ROOT / "packages/daphne/README.md", 4):
        expected.extend(float(part) for part in cell.split(" / "))
    shown = [float(v) for v in re.findall(r'data-value="([^"]+)"', charts[0])]
    assert shown == expected
    text = re.sub(r"<[^>]+>", "", page)  # the command's words are spans of a literal
    assert (
        "Command: python bench/goals.py; machine: the 2-core machine with nothing else running; "
        in text
    )
    assert "date: 2026-12-05." in text
    # Every chart cites the date of the figures it draws.
    assert "date: not stated in the README." not in text
