"""The moderation check itself, as a pure function (no IO, no Django).

``chat.tasks.check_message`` runs it in the task worker and sends the verdict to the
room. The rules are deliberately small and predictable; a real deployment would call a
classifier or a service here, which is exactly the slow work that belongs in a worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FLAGGED", "MAX_LINKS", "OK", "Review", "review"]

OK = "ok"
FLAGGED = "flagged"

#: More links than this in one message looks like spam.
MAX_LINKS = 2
#: Shouting: at least this many letters, and none of them lower case.
SHOUTING_LETTERS = 8
#: The same character this many times in a row.
REPEATED_RUN = 6

_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_REPEATED = re.compile(rf"(.)\1{{{REPEATED_RUN - 1},}}", re.DOTALL)


@dataclass(frozen=True)
class Review:
    """``verdict`` is :data:`OK` or :data:`FLAGGED`; ``reason`` says why (empty when OK)."""

    verdict: str
    reason: str = ""


def review(text: str) -> Review:
    """Check one chat message; the first rule it breaks is the reason."""
    links = len(_LINK.findall(text))
    if links > MAX_LINKS:
        return Review(FLAGGED, f"{links} links (at most {MAX_LINKS})")
    letters = [char for char in text if char.isalpha()]
    if len(letters) >= SHOUTING_LETTERS and not any(char.islower() for char in letters):
        return Review(FLAGGED, "shouting (all capitals)")
    repeated = _REPEATED.search(text)
    if repeated is not None:
        return Review(FLAGGED, f"{repeated.group(1)!r} repeated {len(repeated.group(0))} times")
    return Review(OK)
