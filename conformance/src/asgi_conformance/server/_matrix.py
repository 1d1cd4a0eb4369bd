"""Turn results files (one per server configuration) into a case x server Markdown table.

The Markdown file is its own record: a run that covers only some configurations (CI runs
only daphne) reads the other columns back from the existing tables and "Failures in
detail" lists, replaces the columns it ran, and writes the file again. Text above the
summary table is hand-written and kept.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SUMMARY = "| server | failures | passes | not supported | observed |"
DETAILS = "## Failures in detail"
CELLS = {"pass": "pass", "fail": "**FAIL**", "not supported": "n/s"}
TITLES = {
    "http1_framing": "HTTP/1.1 framing, smuggling and Host (RFC 9112)",
    "http1_connection": "HTTP/1.1 connections and responses (RFC 9110/9112)",
    "http1_limits": "HTTP/1.1 limits and timeouts",
    "asgi_http": "ASGI HTTP",
    "websocket_handshake": "WebSocket handshake (RFC 6455 §4)",
    "websocket_frames": "WebSocket frames, UTF-8 and closing (RFC 6455)",
    "websocket_deflate": "permessage-deflate (RFC 7692)",
    "asgi_websocket": "ASGI WebSocket",
    "lifespan": "ASGI lifespan",
    "proxy_headers": "Proxy headers (X-Forwarded-*, RFC 7239)",
    "resources": "Resource behaviour under attack",
    "tls_http2": "TLS and HTTP/2",
}
_GROUP_OF = {title: group for group, title in TITLES.items()}
_ROW = re.compile(r"^\| `(?P<case>[^`]+)` \|(?P<cells>.*)\|$")


def _outcome(cell: str) -> dict[str, str] | None:
    cell = cell.strip()
    if not cell:
        return None
    if cell.startswith("obs: "):
        return {"outcome": "observed", "detail": cell[5:]}
    outcome = {text: name for name, text in CELLS.items()}.get(cell, cell)
    return {"outcome": outcome, "detail": ""}


def load_existing(path: Path) -> dict[str, Any]:
    """The servers' results as recorded in an existing table file (empty if none)."""
    if not path.exists():
        return {}
    servers: dict[str, Any] = {}
    group, names, failing = "", list[str](), ""
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            group = _GROUP_OF.get(line[3:], line[3:])
        elif line.startswith("| case |"):
            names = [name.strip() for name in line.strip("|").split("|")[1:]]
            for name in names:
                servers.setdefault(name, {"server": name, "settings": {}, "results": {}})
        elif (row := _ROW.match(line)) and names:
            for name, cell in zip(names, row["cells"].split("|"), strict=False):
                if (result := _outcome(cell)) is not None:
                    servers[name]["results"][f"{group}::{row['case']}"] = result
        elif line.startswith("### "):
            failing = line[4:].rsplit(" (", 1)[0]
        elif line.startswith("Command: `") and failing in servers:
            servers[failing]["settings"] = {"commands": {"main": line[10:-1]}}
        elif line.startswith("- `") and failing in servers:
            case, _, detail = line[3:].partition("`: ")
            servers[failing]["results"][case] = {"outcome": "fail", "detail": detail}
    return servers


def merge(path: Path, reports: list[Path]) -> dict[str, Any]:
    servers = load_existing(path)
    for report in reports:
        if not report.exists():
            continue  # that configuration did not run (the kit could not start)
        data = json.loads(report.read_text())
        servers[data["server"]] = data
    return dict(sorted(servers.items()))


def _cell(result: dict[str, str] | None) -> str:
    if result is None:
        return ""
    if result["outcome"] == "observed":
        return "obs: " + result["detail"].replace("|", "/").replace("`", "'")[:60]
    return CELLS.get(result["outcome"], result["outcome"])


def _groups(servers: dict[str, Any]) -> dict[str, list[str]]:
    groups: dict[str, set[str]] = {}
    for data in servers.values():
        for case in data["results"]:
            group, _, name = case.partition("::")
            groups.setdefault(group, set()).add(name)
    order = list(TITLES)
    ranked = sorted(groups, key=lambda g: (order.index(g) if g in order else len(order), g))
    return {group: sorted(groups[group]) for group in ranked}


def _summary(servers: dict[str, Any]) -> list[str]:
    lines = [SUMMARY, "| --- | ---: | ---: | ---: | ---: |"]
    for name, data in servers.items():
        outcomes = [r["outcome"] for r in data["results"].values()]
        counts = [outcomes.count(k) for k in ("fail", "pass", "not supported", "observed")]
        lines.append(f"| {name} | " + " | ".join(str(c) for c in counts) + " |")
    return lines


def render(servers: dict[str, Any], preamble: str) -> str:
    names = list(servers)
    lines = [preamble.rstrip(), "", *_summary(servers)]
    for group, cases in _groups(servers).items():
        lines += ["", f"## {TITLES.get(group, group)}", ""]
        lines.append("| case | " + " | ".join(names) + " |")
        lines.append("| --- |" + " --- |" * len(names))
        for case in cases:
            cells = [_cell(servers[n]["results"].get(f"{group}::{case}")) for n in names]
            lines.append(f"| `{case}` | " + " | ".join(cells) + " |")
    lines += ["", DETAILS, ""]
    for name in names:
        failed = {c: r for c, r in servers[name]["results"].items() if r["outcome"] == "fail"}
        command = servers[name].get("settings", {}).get("commands", {}).get("main", "")
        lines += [f"### {name} ({len(failed)})", "", f"Command: `{command}`", ""]
        for case, result in sorted(failed.items()):
            detail = " ".join(result["detail"].split()).replace("`", "'")
            lines.append(f"- `{case}`: {detail}")
        lines.append("")
    return "\n".join(lines)


def preamble_of(path: Path, default: str) -> str:
    """The hand-written text above the generated tables (kept across runs)."""
    if not path.exists():
        return default
    text = path.read_text()
    cut = text.find("\n" + SUMMARY)
    return text[:cut] if cut >= 0 else text


__all__ = ["load_existing", "merge", "preamble_of", "render"]
