"""Headless Chromium pages for the browser tests (Selenium + Debian's chromium).

Loaded by path from conftest.py. When the browser cannot start, the test FAILS with
the reason and how to install it; it never skips.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

#: Upper bound for one page condition (connected, message shown). Not a speed
#: assertion: it only bounds how long a broken page is waited on.
WAIT_SECONDS = 30

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1024,768",
)

INSTALL_HINT = (
    "install Debian's browser and driver with `apt-get install -y chromium chromium-driver`, "
    "or point CHROMIUM_BINARY / CHROMEDRIVER at them"
)

_MESSAGES_JS = """
return Array.from(document.querySelectorAll('#chat-log li')).map(
    (li) => [li.querySelector('.user').textContent, li.querySelector('.text').textContent]);
"""


_BADGE_JS = """
const item = Array.from(document.querySelectorAll('#chat-log li')).find(
    (li) => li.querySelector('.text').textContent === arguments[0]);
const badge = item && item.querySelector('.moderation');
return badge ? [badge.textContent, badge.dataset.worker] : null;
"""


def _binaries() -> tuple[str, str]:
    binary = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
    driver = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    for label, path in (("Chromium", binary), ("chromedriver", driver)):
        if not Path(path).exists():
            pytest.fail(f"{label} is not at {path}: {INSTALL_HINT}", pytrace=False)
    return binary, driver


class Browsers:
    """Starts one Chromium per page (own profile each) and quits them all at the end."""

    def __init__(self) -> None:
        self._drivers: list[Any] = []
        self._profiles: list[tempfile.TemporaryDirectory[str]] = []

    def new_driver(self) -> Any:
        try:
            from selenium import webdriver
            from selenium.common.exceptions import WebDriverException
            from selenium.webdriver.chrome.service import Service
        except ImportError as exc:
            pytest.fail(f"selenium is not installed ({exc}): pip install selenium", pytrace=False)
        binary, driver_path = _binaries()
        profile = tempfile.TemporaryDirectory(prefix="chat-chromium-")
        self._profiles.append(profile)
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile.name}"):
            options.add_argument(flag)
        try:
            driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        except WebDriverException as exc:
            pytest.fail(
                f"headless Chromium could not start ({binary} via {driver_path}): "
                f"{exc.msg or exc}. {INSTALL_HINT}",
                pytrace=False,
            )
        self._drivers.append(driver)
        return driver

    def page(self, base_url: str) -> ChatPage:
        return ChatPage(self.new_driver(), base_url)

    def close(self) -> None:
        for driver in self._drivers:
            driver.quit()
        self._drivers.clear()
        for profile in self._profiles:
            profile.cleanup()
        self._profiles.clear()


class ChatPage:
    """One browser window on the chat, driven the way a person would use it."""

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url.rstrip("/")
        self.room: str | None = None

    def _wait(self, condition: Any, what: str) -> None:
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            WebDriverWait(self.driver, WAIT_SECONDS).until(lambda _: condition())
        except TimeoutException:
            pytest.fail(
                f"page {self.driver.current_url} never showed {what}; "
                f"status={self._text('chat-status')!r} error={self._text('chat-error')!r} "
                f"log={self.messages()!r}",
                pytrace=False,
            )

    def _text(self, element_id: str) -> str | None:
        from selenium.common.exceptions import NoSuchElementException
        from selenium.webdriver.common.by import By

        try:
            return str(self.driver.find_element(By.ID, element_id).text)
        except NoSuchElementException:
            return None

    def sign_in(self, username: str, password: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.get(f"{self.base_url}/accounts/login/")
        self.driver.find_element(By.NAME, "username").send_keys(username)
        self.driver.find_element(By.NAME, "password").send_keys(password)
        self.driver.find_element(By.ID, "login-submit").click()
        self._wait(lambda: self._text("account-name") == username, f"signed in as {username}")

    def enter_room(self, room: str) -> None:
        """Pick the room on the index page, as a visitor would."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.driver.get(f"{self.base_url}/")
        box = self.driver.find_element(By.ID, "room-name-input")
        box.send_keys(room)
        box.send_keys(Keys.ENTER)
        self.room = room
        self._wait(lambda: self._text("room-title") == room, f"the room page for {room!r}")
        self.wait_connected()

    def wait_connected(self) -> None:
        self._wait(lambda: self._text("chat-status") == "connected", "status 'connected'")

    def wait_disconnected(self) -> None:
        self._wait(lambda: self._text("chat-status") != "connected", "the connection lost")

    def user(self) -> str | None:
        return self._text("chat-user")

    def send(self, text: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element(By.ID, "chat-message-input")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def messages(self) -> list[tuple[str, str]]:
        return [(user, text) for user, text in self.driver.execute_script(_MESSAGES_JS)]

    def wait_for_message(self, text: str) -> None:
        self._wait(lambda: any(t == text for _, t in self.messages()), f"message {text!r}")

    def moderation(self, text: str) -> tuple[str, str] | None:
        """(badge text, worker id) the background check put on message *text*, if any."""
        found = self.driver.execute_script(_BADGE_JS, text)
        return None if found is None else (found[0], found[1])

    def wait_for_moderation(self, text: str) -> tuple[str, str]:
        self._wait(lambda: self.moderation(text) is not None, f"the check of {text!r}")
        found = self.moderation(text)
        assert found is not None
        return found

    def reload(self) -> None:
        self.driver.refresh()
        self.wait_connected()


def room_scenario(first: ChatPage, second: ChatPage, other: ChatPage) -> None:
    """Two pages share a room, a third in another room sees none of it; reload reconnects.

    Absence is proved by ordering, not by waiting: a page's socket receives broadcasts
    in the order they were sent, so once a later message has arrived, an earlier one
    that was going to arrive would already be in the log.
    """
    assert first.room == second.room != other.room
    first.send("hello from the first page")
    first.wait_for_message("hello from the first page")
    second.wait_for_message("hello from the first page")

    other.send("only for the other room")
    other.wait_for_message("only for the other room")
    assert [t for _, t in other.messages()] == ["only for the other room"]

    second.send("reply from the second page")
    first.wait_for_message("reply from the second page")
    second.wait_for_message("reply from the second page")
    assert [t for _, t in first.messages()] == [
        "hello from the first page",
        "reply from the second page",
    ]

    second.reload()
    assert second.messages() == []
    first.send("after the reload")
    second.wait_for_message("after the reload")
    second.send("reloaded page still sends")
    first.wait_for_message("reloaded page still sends")
    assert "only for the other room" not in [t for _, t in first.messages()]
