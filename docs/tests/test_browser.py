"""Headless Chromium opens the built site, served over HTTP on 127.0.0.1.

The same approach as examples/chat's browser test (Selenium, Debian's chromium and
chromedriver). It checks that the index, the tutorial's first page and the search page
render, and that Sphinx's search finds a known term. Screenshots are kept in
.ci-reports/docs-screenshots/. A browser that cannot start fails the test with the
reason; it never skips.
"""

from __future__ import annotations

import functools
import http.server
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPORTS

SHOTS = REPORTS / "docs-screenshots"
#: Bounds how long a broken page is waited on; not a speed assertion.
WAIT_SECONDS = 30
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)
HINT = "apt-get install -y chromium chromium-driver, or set CHROMIUM_BINARY / CHROMEDRIVER"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(html_dir: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        pytest.fail(f"selenium is not installed ({exc})", pytrace=False)
    binary = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
    driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    for label, path in (("Chromium", binary), ("chromedriver", driver_path)):
        if not Path(path).exists():
            pytest.fail(f"{label} is not at {path}: {HINT}", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="docs-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        try:
            driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        except WebDriverException as exc:
            pytest.fail(
                f"headless Chromium could not start: {exc.msg or exc}. {HINT}", pytrace=False
            )
        try:
            yield driver
        finally:
            driver.quit()


def _open(browser: Any, url: str, shot: str, heading: bool = True) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{shot}.png"))
    if not heading:
        return ""
    heading = browser.find_element(By.CSS_SELECTOR, "article h1, main h1, h1")
    return str(heading.text)


def test_the_index_renders(browser: Any, site: str) -> None:
    heading = _open(browser, f"{site}/index.html", "index")
    assert "Django Channels" in browser.title
    assert heading.startswith("Django Channels")
    # The architecture diagram was rendered by graphviz at build time.
    assert browser.find_elements("css selector", "img[src$='.svg'], object[data$='.svg'], svg")


def test_the_tutorials_first_page_renders_with_code_from_the_example(
    browser: Any, site: str
) -> None:
    heading = _open(browser, f"{site}/tutorial/part-1.html", "tutorial-part-1")
    assert heading.startswith("Part 1")
    assert "Part 1" in browser.title
    code = " ".join(e.text for e in browser.find_elements("css selector", "div.highlight pre"))
    assert "INSTALLED_APPS" in code and "ASGI_APPLICATION" in code


def test_search_finds_a_known_term(browser: Any, site: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{site}/search.html?q=WebsocketCommunicator", "search", heading=False)
    assert "Search" in browser.title
    found = "ul.search li, #search-results li"
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda d: len(d.find_elements("css selector", found)) > 0
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "search-results.png"))
    results = browser.find_elements("css selector", found)
    assert any("testing" in r.text.lower() or "communicator" in r.text.lower() for r in results)


def test_search_for_nonsense_finds_nothing(browser: Any, site: str) -> None:
    """The positive search above means something only if search can also come up empty."""
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{site}/search.html?q=zqxjvwkpfh", "search-empty", heading=False)
    summary = "p.search-summary"
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda d: any(e.text.strip() for e in d.find_elements("css selector", summary))
    )
    assert not browser.find_elements("css selector", "ul.search li")
