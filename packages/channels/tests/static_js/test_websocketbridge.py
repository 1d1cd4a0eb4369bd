"""The JavaScript WebSocketBridge in a real headless Chromium against a real daphne.

Chromium (/usr/bin/chromium) and chromedriver (/usr/bin/chromedriver) are
required: if the browser cannot start the test fails and says why.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHANNELS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHANNELS_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 30  # generous: a bound on a hang, not a speed requirement


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from channels_tests_bridge import make_application
    from daphne.testing import serve

    with serve(make_application) as (host, port):
        yield f"http://{host}:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="channels-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    except Exception as exc:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.fail(
            f"Headless Chromium could not start ({CHROMIUM} via {CHROMEDRIVER}): {exc}. "
            f"Install Debian's chromium and chromium-driver packages, or point "
            f"CHANNELS_TEST_CHROMIUM / CHANNELS_TEST_CHROMEDRIVER at them."
        )
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait_for(browser: Any, script: str, description: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    def check(driver: Any) -> Any:
        return driver.execute_script(script)

    try:
        return WebDriverWait(browser, WAIT, poll_frequency=0.05).until(check)
    except Exception as exc:
        log = browser.execute_script("return JSON.stringify(window.log || null)")
        raise AssertionError(f"Expected {description}; page log: {log}") from exc


SETUP = """
window.log = [];
window.bridge = new (window.moduleBridge || window.channels.WebSocketBridge)({
    minDelay: 50, maxDelay: 200,
    onopen: function () { window.log.push(["open"]); },
    onclose: function (event) { window.log.push(["close", event.code]); },
});
bridge.listen(function (data, stream) { window.log.push(["listen", data, stream || null]); });
"""


def _received(browser: Any, kind: str) -> list[Any]:
    entries = browser.execute_script("return window.log")
    return [entry for entry in entries if entry[0] == kind]


@pytest.mark.parametrize("page", ["/", "/module/"])
def test_messages_flow_both_ways_and_queue_until_open(server: str, browser: Any, page: str) -> None:
    browser.get(server + page)
    _wait_for(browser, "return !!(window.moduleBridge || window.channels)", "the script loaded")
    if page == "/module/":
        # The ES module exports the same class the classic script defines.
        assert browser.execute_script(
            "return typeof moduleBridge === 'function' && moduleBridge === channels.WebSocketBridge"
        )
    browser.execute_script(SETUP)
    # Relative URL, resolved against the page (http -> ws); sent before the socket opened.
    browser.execute_script("bridge.connect('/ws/echo/'); bridge.send({hello: 'world'});")
    _wait_for(browser, "return window.log.some(e => e[0] === 'listen')", "an echo")
    (echo,) = _received(browser, "listen")
    assert echo[1]["echo"] == {"hello": "world"}
    assert browser.execute_script("return bridge.url").startswith("ws://127.0.0.1:")
    browser.execute_script("bridge.close()")


def test_streams_are_demultiplexed(server: str, browser: Any) -> None:
    browser.get(server + "/")
    browser.execute_script(
        SETUP
        + """
        window.streams = [];
        const keep = function (payload, stream) { streams.push([stream, payload]); };
        bridge.demultiplex('echo', keep);
        bridge.demultiplex('shout', keep);
        bridge.connect('/ws/multi/');
        bridge.stream('echo').send({n: 1});
        bridge.stream('shout').send('quiet');
        bridge.send({stream: 'nope', payload: 1});
        """
    )
    _wait_for(browser, "return window.streams.length >= 2", "two stream replies")
    streams = browser.execute_script("return window.streams")
    assert ["shout", "QUIET"] in streams
    (echo,) = [payload for stream, payload in streams if stream == "echo"]
    assert echo["echo"] == {"n": 1}
    # The unknown stream's error frame has no handler, so listen() gets it.
    _wait_for(browser, "return window.log.some(e => e[0] === 'listen')", "the error frame")
    (error,) = _received(browser, "listen")
    assert "unknown stream 'nope'" in error[1]["error"]
    assert error[2] == "nope"
    browser.execute_script("bridge.close()")


def test_reconnects_after_the_server_closes_and_sends_what_was_queued(
    server: str, browser: Any
) -> None:
    browser.get(server + "/")
    browser.execute_script(SETUP + "bridge.connect('/ws/echo/'); bridge.send({first: 1});")
    _wait_for(browser, "return window.log.some(e => e[0] === 'listen')", "the first echo")
    first = _received(browser, "listen")[0][1]["connection"]
    # The server closes the socket; a message sent meanwhile waits for the new connection.
    browser.execute_script("bridge.send({cmd: 'close'});")
    _wait_for(browser, "return window.log.some(e => e[0] === 'close')", "the server's close")
    browser.execute_script("bridge.send({second: 2});")
    _wait_for(browser, "return window.log.filter(e => e[0] === 'listen').length >= 2", "a reply")
    second = _received(browser, "listen")[1][1]
    assert second["echo"] == {"second": 2}
    assert second["connection"] != first
    assert ["close", 4000] in browser.execute_script("return window.log")
    assert browser.execute_script("return bridge.connections") == 2
    browser.execute_script("bridge.close()")


def test_close_stops_reconnecting(server: str, browser: Any) -> None:
    browser.get(server + "/")
    browser.execute_script(SETUP + "bridge.connect('/ws/echo/');")
    _wait_for(browser, "return window.log.some(e => e[0] === 'open')", "the socket opened")
    browser.execute_script("bridge.close(1000)")
    _wait_for(browser, "return window.log.some(e => e[0] === 'close')", "the close")
    # Long enough for several backoff periods (50-200 ms) to pass.
    browser.execute_script("setTimeout(function () { window.waited = true; }, 1000);")
    _wait_for(browser, "return window.waited === true", "the pause")
    assert browser.execute_script("return bridge.connections") == 1
    assert browser.execute_script("return bridge.socket") is None


def test_bad_input_is_refused_clearly(server: str, browser: Any) -> None:
    browser.get(server + "/")
    errors = browser.execute_script(
        """
        const errors = [];
        try { new channels.WebSocketBridge({nope: 1}); } catch (e) { errors.push(e.message); }
        const b = new channels.WebSocketBridge({maxQueue: 1});
        b.send(1);
        try { b.send(2); } catch (e) { errors.push(e.message); }
        try { b.connect('ftp://example.com/'); } catch (e) { errors.push(e.message); }
        return errors;
        """
    )
    assert 'unknown option "nope"' in errors[0]
    assert "maxQueue" in errors[1]
    assert "expected an http(s) or ws(s) URL, got ftp://example.com/" in errors[2]


def test_the_readme_example_runs(server: str, browser: Any) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (example,) = re.findall(r"```javascript\n(.*?)```", readme, flags=re.DOTALL)
    browser.get(server + "/")
    browser.execute_script(
        "window.logged = []; console.log = (...args) => window.logged.push(args);\n"
        + example
        + "\nwindow.readmeBridge = bridge;"
    )
    _wait_for(browser, "return window.logged.length >= 2", "two console lines")
    logged = browser.execute_script("return window.logged")
    (echo,) = [line for line in logged if line[0] == "echo"]
    assert echo[1]["echo"] == {"hello": "world"}
    (unhandled,) = [line for line in logged if line[0] == "no stream handler for"]
    assert unhandled[1]["stream"] == "notices"
    assert "unknown stream 'notices'" in unhandled[1]["error"]
    browser.execute_script("window.readmeBridge.close()")


def test_urls_are_resolved_against_the_page_scheme(server: str, browser: Any) -> None:
    browser.get(server + "/")
    resolved = browser.execute_script(
        """
        const resolve = channels.WebSocketBridge.resolveUrl;
        const page = {href: "https://example.com/app/page.html"};
        return [
            resolve("/ws/x/", page),
            resolve("ws/y/", page),
            resolve("/ws/z/", {href: "http://example.com:8000/"}),
            resolve("wss://other.example/ws/", page),
            resolve("https://other.example/ws/", page),
        ];
        """
    )
    assert resolved == [
        "wss://example.com/ws/x/",
        "wss://example.com/app/ws/y/",
        "ws://example.com:8000/ws/z/",
        "wss://other.example/ws/",
        "wss://other.example/ws/",
    ]


def test_a_service_restart_close_spreads_reconnections_over_the_restart_window(
    server: str, browser: Any
) -> None:
    browser.get(server + "/")
    browser.execute_script(
        SETUP.replace("maxDelay: 200,", "maxDelay: 200, restartDelay: 600,")
        + "bridge.connect('/ws/echo/');"
    )
    _wait_for(browser, "return window.log.some(e => e[0] === 'open')", "the socket opened")
    # 1012 (Service Restart), as daphne's gateway sends when no worker is alive.
    browser.execute_script("window.closedAt = Date.now(); bridge.send({cmd: 'close', code: 1012});")
    _wait_for(browser, "return bridge.connections === 2", "the reconnection")
    assert ["close", 1012] in browser.execute_script("return window.log")
    assert browser.execute_script("return bridge.lastCloseCode") == 1012
    # The delays drawn for restart closes cover the whole window (full jitter), far beyond
    # an ordinary close's 50 ms * (1 - 0.25 * random); an ordinary close stays in its band.
    delays = browser.execute_script(
        "var d = []; for (var i = 0; i < 2000; i++) { d.push(bridge.reconnectDelay(1012)); }"
        "return [Math.min.apply(null, d), Math.max.apply(null, d)];"
    )
    assert delays[0] < 60 and delays[1] > 540
    assert browser.execute_script("return bridge.reconnectDelay(1013) <= 600")
    plain = browser.execute_script(
        "var d = []; for (var i = 0; i < 200; i++) { d.push(bridge.reconnectDelay(1006)); }"
        "return [Math.min.apply(null, d), Math.max.apply(null, d)];"
    )
    assert plain[0] >= 37.5 and plain[1] <= 50
    browser.execute_script("bridge.close()")
