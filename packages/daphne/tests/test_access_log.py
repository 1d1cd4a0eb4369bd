"""Access log lines in the format Daphne 4 writes them."""

from __future__ import annotations

import datetime
import io

from daphne.access import AccessLogGenerator


def test_access_log_lines():
    stream = io.StringIO()
    log = AccessLogGenerator(stream)
    log(
        "http",
        "complete",
        {
            "path": "/p",
            "status": 200,
            "method": "GET",
            "client": "1.2.3.4:5",
            "size": 10,
            "time_taken": 0.1,
        },
    )
    log("websocket", "connected", {"path": "/ws", "client": None})
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("1.2.3.4 - - [") and lines[0].endswith('"GET /p" 200 10')
    assert lines[1].startswith("- - - [") and '"WSCONNECT /ws"' in lines[1]
    stream2 = io.StringIO()
    AccessLogGenerator(stream2).write_entry("h", datetime.datetime(2020, 1, 2, 3, 4, 5), "X")
    assert stream2.getvalue() == 'h - - [02/Jan/2020:03:04:05] "X" - -\n'
