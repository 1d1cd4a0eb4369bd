"""Access logging in a format close to the Apache/NCSA common log format."""

from __future__ import annotations

import datetime
from typing import Any, TextIO

__all__ = ["AccessLogGenerator"]


class AccessLogGenerator:
    """Writes one line per action to ``stream``; pass it as the server's ``action_logger``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        client = details.get("client") or "-"
        host = client.rsplit(":", 1)[0] if client != "-" else "-"
        if protocol == "http" and action == "complete":
            self.write_entry(
                host=host,
                date=datetime.datetime.now(),
                request="{} {}".format(details["method"], details["path"]),
                status=details["status"],
                length=details["size"],
            )
        elif protocol == "websocket":
            verbs = {
                "connecting": "WSCONNECTING",
                "rejected": "WSREJECT",
                "connected": "WSCONNECT",
                "disconnected": "WSDISCONNECT",
            }
            if action in verbs:
                self.write_entry(
                    host=host,
                    date=datetime.datetime.now(),
                    request=f"{verbs[action]} {details['path']}",
                )

    def write_entry(
        self,
        host: str,
        date: datetime.datetime,
        request: str,
        status: int | None = None,
        length: int | None = None,
        ident: str | None = None,
        user: str | None = None,
    ) -> None:
        """Write one common-log-format line to ``stream`` and flush it.

        ``host ident user [date] "request" status length``, with ``-`` for each of
        *ident*, *user*, *status* and *length* that is not given (or is 0); *date* is
        formatted as ``%d/%b/%Y:%H:%M:%S`` without a zone. Errors of the stream propagate.
        """
        self.stream.write(
            '{} {} {} [{}] "{}" {} {}\n'.format(
                host,
                ident or "-",
                user or "-",
                date.strftime("%d/%b/%Y:%H:%M:%S"),
                request,
                status or "-",
                length or "-",
            )
        )
        self.stream.flush()
