"""``bench-chart``: a bar chart drawn at build time from a README's benchmark table.

The numbers are never copied into the docs: the directive reads the Markdown table in the
named README section at every build and draws an inline SVG from it (no JavaScript, no
network, no plotting library), so a chart cannot drift from the table it illustrates::

    ```{bench-chart} ../packages/daphne/README.md
    :section: "## Benchmarks"
    :table: 1
    :label: measure
    :value: ratio
    :title: daphne / best peer
    :reference: 1
    :machine: the 2-core machine
    :date: 2026-11-22
    ```

- ``:table:`` is the table's position in the section (from 1, default 1); ``:label:`` and
  ``:value:`` name its columns (a header, or a column number from 1 when headers repeat).
- A value cell holding several figures (``0.1 / 0.3``) gives one bar each; their names
  come from the label's own ``a / b`` run (``p50 / p99 ms``) or else from ``:parts:``
  (comma-separated). Cells that are not figures (empty, ranges, prose) draw no bar.
- The caption cites the command, machine and date as the README does: the command is the
  last ``python ... bench/...`` line (code block or inline code) before the table;
  ``:machine:`` and ``:date:`` must appear in the section before the table (line breaks
  aside), so a
  rerun that changes them fails the build until the chart is updated. A README that
  gives no date is cited as giving none.
- ``:reference:`` draws a dashed line at that value (1 for ratios).

Anything that does not match (no such file, section, table, column, no figure at all, a
machine or date the README does not state) is an error, hence a failed build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

#: A figure: an optional multiplication sign (U+00D7), a number (thousands commas allowed),
#: then an optional unit that holds no digit (``x``, ``µs``, ``msg/s``, ``%``). A range
#: (U+00D7 then ``52-62``) or ``0.13 of the floor at 100`` is not a figure.
_FIGURE = re.compile(r"\u00d7?\s*(?P<number>-?\d[\d,]*(?:\.\d+)?)\s*(?P<unit>[^\d\s][^\d]*)?")
_COMMAND = re.compile(
    r"(?:^ {4}|^|`)(?P<command>(?:\$ )?(?:[^\s`]*/)?python3? [^`\n]*bench/[^`\n]*)", re.M
)
_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value and the text the table gave for it."""

    label: str
    value: float
    text: str


def section(text: str, heading: str) -> str:
    """The lines under *heading* (a whole line, ``## Benchmarks``) up to the next heading
    of the same or a higher level; ``ValueError`` if the heading is not there."""
    lines = text.splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    try:
        start = lines.index(heading) + 1
    except ValueError:
        raise ValueError(f"no heading line {heading!r}") from None
    end = len(lines)
    in_fence = False
    for index in range(start, len(lines)):
        line = lines[index]
        if line.startswith("```"):
            in_fence = not in_fence
        hashes = len(line) - len(line.lstrip("#"))
        if not in_fence and 0 < hashes <= level and line[hashes : hashes + 1] == " ":
            end = index
            break
    return "\n".join(lines[start:end])


def tables(text: str) -> list[tuple[int, list[list[str]]]]:
    """Every Markdown table in *text*: (offset of its first character, rows of cells).

    The header row comes first; the separator row is left out.
    """
    found = []
    lines = text.splitlines(keepends=True)
    offset = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.startswith("|") and _SEPARATOR.match(following.strip()):
            start = offset
            rows = [_cells(line)]
            offset += len(line) + len(following)
            index += 2
            while index < len(lines) and lines[index].startswith("|"):
                rows.append(_cells(lines[index]))
                offset += len(lines[index])
                index += 1
            found.append((start, rows))
            continue
        offset += len(line)
        index += 1
    return found


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def figures(cell: str) -> list[tuple[float, str]]:
    """The figures of a cell, ``[(value, text)]``; ``[]`` unless every part is a figure."""
    parts = [part.strip() for part in cell.split(" / ")]
    result = []
    for part in parts:
        match = _FIGURE.fullmatch(part)
        if not part or match is None:
            return []
        result.append((float(match["number"].replace(",", "")), part))
    return result


def part_names(label: str, count: int, parts: list[str]) -> list[str]:
    """Labels for the *count* bars of one row (see the module docstring)."""
    if count <= 1:
        return [label][:count]
    run = re.search(r"\S+(?: / \S+)+", label)
    if run is not None and len(run[0].split(" / ")) == count:
        return [label.replace(run[0], name) for name in run[0].split(" / ")]
    if len(parts) != count:
        raise ValueError(
            f"row {label!r} has {count} figures: name them with :parts: ({count} names)"
        )
    return [f"{label}, {name}" for name in parts]


def bars(rows: list[list[str]], label: str, value: str, parts: list[str]) -> list[Bar]:
    """The bars of a table (header row first) from its *label* and *value* columns."""
    header = rows[0]
    label_at, value_at = _column(header, label), _column(header, value)
    labels = [row[label_at].replace("`", "") if label_at < len(row) else "" for row in rows]
    result = []
    for index, row in enumerate(rows[1:], start=1):
        if max(label_at, value_at) >= len(row):
            continue
        found = figures(row[value_at])
        own = labels[index]
        if labels.count(own) > 1:  # "server CPU per message" under each workload's row
            own = f"{own} ({labels[index - 1]})"
        names = part_names(own, len(found), parts)
        result.extend(Bar(n, v, t) for n, (v, t) in zip(names, found, strict=True))
    return result


def _column(header: list[str], name: str) -> int:
    if name.isdigit():
        if not 1 <= int(name) <= len(header):
            raise ValueError(f"column {name} of a {len(header)}-column table")
        return int(name) - 1
    if header.count(name) != 1:
        raise ValueError(f"column {name!r} is not exactly one header of {header}")
    return header.index(name)


def command_before(text: str) -> str | None:
    """The last ``python ... bench/...`` command in *text*, without a ``$ `` prompt."""
    commands = [m["command"].strip() for m in _COMMAND.finditer(text)]
    if not commands:
        return None
    command = commands[-1]
    return command[2:] if command.startswith("$ ") else command


def svg(bars_: list[Bar], title: str, reference: float | None) -> str:
    """A horizontal bar chart as an inline SVG element (sized in CSS pixels)."""
    label_width, bar_width, row, top = 400, 260, 22, 28
    width = label_width + bar_width + 90
    height = top + row * len(bars_) + 24  # room for the reference line's label
    largest = max([b.value for b in bars_] + ([reference] if reference is not None else []))
    scale = bar_width / largest if largest > 0 else 0.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bench-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold" fill="currentColor">'
        f"{escape(title)}</text>",
    ]
    for index, bar in enumerate(bars_):
        y = top + index * row
        length = max(bar.value * scale, 1.0)
        out.append(
            f'<g class="bench-bar" data-value="{bar.value:g}">'
            f'<text x="{label_width - 6}" y="{y + 15}" font-size="12" text-anchor="end" '
            f'fill="currentColor">{escape(bar.label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" '
            f'fill="#4a7fb5"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 15}" font-size="12" '
            f'fill="currentColor">{escape(bar.text)}</text></g>'
        )
    if reference is not None:
        x = label_width + reference * scale
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{height - 16}" '
            f'stroke="#c0392b" stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="{height - 4}" font-size="11" text-anchor="middle" '
            f'fill="#c0392b">'
            f"{reference:g}</text>"
        )
    out.append("</svg>")
    return "".join(out)


class BenchChart(SphinxDirective):
    """The ``bench-chart`` directive (see the module docstring)."""

    required_arguments = 1
    has_content = False
    option_spec = {
        "section": directives.unchanged_required,
        "table": directives.positive_int,
        "label": directives.unchanged_required,
        "value": directives.unchanged_required,
        "title": directives.unchanged_required,
        "parts": directives.unchanged,
        "reference": float,
        "machine": directives.unchanged_required,
        "date": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        """Read the table and return the chart and its caption (errors fail the build)."""
        relative, absolute = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(relative)
        options = self.options
        for required in ("section", "label", "value", "title", "machine"):
            if required not in options:
                raise self.error(f"bench-chart needs :{required}:")
        heading = options["section"].strip('"')
        try:
            with open(absolute, encoding="utf-8") as stream:
                text = section(stream.read(), heading)
            found = tables(text)
            number = options.get("table", 1)
            if number > len(found):
                raise ValueError(f"section {heading!r} has {len(found)} tables, not {number}")
            start, rows = found[number - 1]
            parts = [p.strip() for p in options.get("parts", "").split(",") if p.strip()]
            drawn = bars(rows, options["label"], options["value"], parts)
        except (OSError, ValueError) as exc:
            raise self.error(f"bench-chart {self.arguments[0]}: {exc}") from None
        if not drawn:
            raise self.error(f"bench-chart {self.arguments[0]}: no figures in the table")
        before = text[:start]
        flat = " ".join(before.split())  # a README wraps its prose anywhere
        for cited in ("machine", "date"):
            if options.get(cited) and " ".join(options[cited].split()) not in flat:
                raise self.error(
                    f"bench-chart {self.arguments[0]}: the README does not say "
                    f"{options[cited]!r} before the table (:{cited}:)"
                )
        command = command_before(before)
        if command is None:
            raise self.error(f"bench-chart {self.arguments[0]}: no bench/ command before it")
        chart = nodes.container(classes=["bench-chart"])
        chart += nodes.raw(
            "", svg(drawn, options["title"], options.get("reference")), format="html"
        )
        caption = nodes.paragraph(classes=["bench-chart-caption"])
        source = self.arguments[0].lstrip("./")
        caption += nodes.Text(
            f'Drawn at build time from table {number} of the "{heading}" section of '
            f"{source}. Command: "
        )
        caption += nodes.literal(command, command)
        date = options.get("date") or "not stated in the README"
        caption += nodes.Text(f"; machine: {options['machine']}; date: {date}.")
        chart += caption
        return [chart]


def setup(app: Any) -> dict[str, Any]:
    """Register the ``bench-chart`` directive."""
    app.add_directive("bench-chart", BenchChart)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
