"""Turn results files (one per server configuration) into a case x server Markdown table.

The Markdown file keeps every configuration's raw results in an HTML comment at its
end, so a run that covers only some configurations (CI runs only daphne) updates
their columns and keeps the others as they were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MARK = "<!-- asgi-conformance-results"
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


def load_embedded(path: Path) -> dict[str, Any]:
    """The results stored in an existing table file (empty if there is none)."""
    if not path.exists():
        return {}
    text = path.read_text()
    start = text.find(MARK)
    if start < 0:
        return {}
    body = text[start + len(MARK) : text.index("-->", start)]
    data: dict[str, Any] = json.loads(body)
    return data


def merge(path: Path, reports: list[Path]) -> dict[str, Any]:
    servers = load_embedded(path)
    for report in reports:
        if not report.exists():
            continue  # that configuration did not run (the kit could not start)
        data = json.loads(report.read_text())
        servers[data["server"]] = data
    return dict(sorted(servers.items()))


def _cell(result: dict[str, str] | None) -> str:
    if result is None:
        return ""
    outcome = result["outcome"]
    if outcome == "observed":
        return "obs: " + result["detail"].replace("|", "/")[:60]
    return CELLS.get(outcome, outcome)


def _groups(servers: dict[str, Any]) -> dict[str, list[str]]:
    groups: dict[str, set[str]] = {}
    for data in servers.values():
        for case in data["results"]:
            group, _, name = case.partition("::")
            groups.setdefault(group, set()).add(name)
    order = list(TITLES)
    ranked = sorted(groups, key=lambda g: (order.index(g) if g in order else len(order), g))
    return {group: sorted(groups[group]) for group in ranked}


def render(servers: dict[str, Any], preamble: str) -> str:
    names = list(servers)
    lines = [preamble.rstrip(), ""]
    lines += [
        "| server | failures | passes | not supported | observed |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in names:
        outcomes = [r["outcome"] for r in servers[name]["results"].values()]
        counts = [outcomes.count(k) for k in ("fail", "pass", "not supported", "observed")]
        lines.append(f"| {name} | " + " | ".join(str(c) for c in counts) + " |")
    for group, cases in _groups(servers).items():
        lines += ["", f"## {TITLES.get(group, group)}", ""]
        lines.append("| case | " + " | ".join(names) + " |")
        lines.append("| --- |" + " --- |" * len(names))
        for case in cases:
            cells = [_cell(servers[n]["results"].get(f"{group}::{case}")) for n in names]
            lines.append(f"| `{case}` | " + " | ".join(cells) + " |")
    lines += ["", "## Failures in detail", ""]
    for name in names:
        failed = {c: r for c, r in servers[name]["results"].items() if r["outcome"] == "fail"}
        lines.append(f"### {name} ({len(failed)})")
        lines.append("")
        lines.append("Command: `" + servers[name]["settings"]["commands"].get("main", "") + "`")
        lines.append("")
        for case, result in sorted(failed.items()):
            lines.append(f"- `{case}`: {result['detail']}")
        lines.append("")
    lines += [MARK, json.dumps(servers, indent=1, sort_keys=True), "-->", ""]
    return "\n".join(lines)


def preamble_of(path: Path, default: str) -> str:
    """The hand-written text above the generated tables (kept across runs)."""
    if not path.exists():
        return default
    text = path.read_text()
    cut = text.find("\n| server | failures |")
    return text[:cut] if cut >= 0 else text


__all__ = ["MARK", "load_embedded", "merge", "preamble_of", "render"]
