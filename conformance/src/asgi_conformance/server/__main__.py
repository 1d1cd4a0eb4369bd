"""``python -m asgi_conformance.server --cmd "..." [options] [pytest options]``.

Runs the kit's checks with pytest. The kit's options may be given without their
``server-`` prefix (``--cmd``, ``--claims``, ``--proxy-cmd``, ``--report``, ...);
everything else goes to pytest unchanged (``-k``, ``-x``, ``-v``, ...).
"""

from __future__ import annotations

import subprocess
import sys

SHORT = {
    "cmd",
    "proxy-cmd",
    "untrusted-proxy-cmd",
    "claims",
    "max-body",
    "head-timeout",
    "ws-max-message",
    "name",
    "report",
}


def translate(args: list[str]) -> list[str]:
    out = []
    for arg in args:
        name = arg[2:].split("=", 1)[0] if arg.startswith("--") else ""
        out.append("--server-" + arg[2:] if name in SHORT else arg)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run pytest in a fresh interpreter: this one imported the kit already, and pytest must
    import the check modules itself to rewrite their asserts."""
    args = translate(list(sys.argv[1:] if argv is None else argv))
    pytest_args = ["--pyargs", "asgi_conformance.server", "-p", "no:cacheprovider", *args]
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args])


__all__ = ["SHORT", "main", "translate"]

if __name__ == "__main__":
    raise SystemExit(main())
