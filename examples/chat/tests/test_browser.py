"""The chat in headless Chromium: what a person sees, end to end.

Two pages join the same room and both show a message typed in one; a third page in
another room never shows it; reloading a page reconnects it. The in-memory variant
runs on ``ChannelsLiveServerTestCase`` (daphne in a child process sharing the test
database, so a user created by the test can sign in); the Redis variant serves two
separate ``daphne`` processes sharing rooms through ``asgi_redis``. Select them with
``-m "browser and not redis_layer"`` or ``-m "browser and redis_layer"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.contrib.auth.models import User

pytestmark = pytest.mark.browser


# channels.testing loads the class lazily (module __getattr__), which mypy sees as a value.
class ChatInBrowserTests(ChannelsLiveServerTestCase):  # type: ignore[misc,valid-type]
    """The in-memory layer, served by daphne in a child process using the test database."""

    @pytest.fixture(autouse=True)
    def _browser_kit(self, browsers: Any, room_scenario: Callable[..., None]) -> None:
        self.browsers = browsers
        self.room_scenario = room_scenario

    def test_rooms_are_shared_isolated_and_survive_reload(self) -> None:
        first = self.browsers.page(self.live_server_url)
        second = self.browsers.page(self.live_server_url)
        other = self.browsers.page(self.live_server_url)
        first.enter_room("lobby")
        second.enter_room("lobby")
        other.enter_room("kitchen")
        self.room_scenario(first, second, other)

    def test_signed_in_user_is_shown_by_name_to_others(self) -> None:
        User.objects.create_user("alice", password="a-long-passphrase")
        alice = self.browsers.page(self.live_server_url)
        guest = self.browsers.page(self.live_server_url)
        alice.sign_in("alice", "a-long-passphrase")
        alice.enter_room("names")
        guest.enter_room("names")
        assert alice.user() == "alice"
        assert guest.user() == "anonymous"
        alice.send("<b>not bold</b>")
        guest.wait_for_message("<b>not bold</b>")
        # Shown as text, never parsed as markup.
        assert guest.messages() == [("alice", "<b>not bold</b>")]


@pytest.mark.redis_layer
def test_two_daphne_processes_share_rooms_in_the_browser(
    daphne_servers: Callable[[Mapping[str, str]], Any],
    redis_layer_env: dict[str, str],
    browsers: Any,
    room_scenario: Callable[..., None],
) -> None:
    """The first page is served by one process, the two others by the other."""
    one, two = daphne_servers(redis_layer_env), daphne_servers(redis_layer_env)
    first = browsers.page(one.url)
    second = browsers.page(two.url)
    other = browsers.page(two.url)
    first.enter_room("lobby")
    second.enter_room("lobby")
    other.enter_room("kitchen")
    room_scenario(first, second, other)


def test_pages_reconnect_by_themselves_after_a_server_restart(
    daphne_servers: Callable[..., Any], browsers: Any
) -> None:
    server = daphne_servers({})
    first, second = browsers.page(server.url), browsers.page(server.url)
    first.enter_room("restart")
    second.enter_room("restart")
    server.stop()
    first.wait_disconnected()
    second.wait_disconnected()
    daphne_servers({}, port=server.port)
    # No reload: the pages' own backoff loop reconnects and rejoins the room.
    first.wait_connected()
    second.wait_connected()
    first.send("back again")
    second.wait_for_message("back again")
    first.wait_for_message("back again")


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("CHROMIUM_BINARY", "/nonexistent/chromium", "Chromium is not at /nonexistent/chromium"),
        ("CHROMEDRIVER", "/nonexistent/chromedriver", "chromedriver is not at /nonexistent/"),
        ("CHROMIUM_BINARY", "/bin/false", "headless Chromium could not start (/bin/false"),
    ],
)
def test_a_browser_that_cannot_start_fails_loudly_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, browsers: Any, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(pytest.fail.Exception) as info:
        browsers.new_driver()
    message = str(info.value)
    assert reason in message
    assert "apt-get install -y chromium chromium-driver" in message
