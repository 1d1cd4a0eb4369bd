"""HTTP pages through Django's test client: index, room, sign-up, sign-in."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.test import TestCase
from django.utils.html import escape


class PageTests(TestCase):
    def test_index_offers_a_room_picker(self) -> None:
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="room-name-input"')
        self.assertContains(response, "Sign in")

    def test_room_page_embeds_room_name_and_socket_path(self) -> None:
        response = self.client.get("/chat/lobby-1/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, '<script id="room-name" type="application/json">"lobby-1"')
        self.assertContains(response, "/ws/chat/${roomName}/")

    def test_room_page_says_whether_messages_get_the_background_check(self) -> None:
        # The tests run on the in-memory layer, where no worker can receive the task.
        response = self.client.get("/chat/lobby-1/")
        self.assertFalse(settings.CHAT_MODERATION)
        self.assertContains(response, 'class="moderation-off"')
        self.assertContains(response, "background moderation is off: ")
        self.assertContains(response, escape(settings.CHAT_MODERATION_WHY))

    def test_invalid_room_names_are_not_found(self) -> None:
        for path in ("/chat/has%20space/", "/chat/" + "x" * 65 + "/", "/chat/a.b/"):
            self.assertEqual(self.client.get(path).status_code, 404, path)

    def test_signup_creates_user_and_signs_in(self) -> None:
        response = self.client.post(
            "/signup/",
            {
                "username": "carol",
                "password1": "a-long-passphrase",
                "password2": "a-long-passphrase",
            },
        )
        self.assertRedirects(response, "/")
        self.assertTrue(User.objects.filter(username="carol").exists())
        self.assertContains(self.client.get("/"), '<strong id="account-name">carol</strong>')

    def test_signup_with_mismatched_passwords_shows_the_form_again(self) -> None:
        response = self.client.post(
            "/signup/", {"username": "dave", "password1": "a-long-passphrase", "password2": "x"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(User.objects.filter(username="dave").exists())
        self.assertContains(response, "password")

    def test_login_page_and_sign_in(self) -> None:
        User.objects.create_user("erin", password="a-long-passphrase")
        self.assertEqual(self.client.get("/accounts/login/").status_code, 200)
        response = self.client.post(
            "/accounts/login/", {"username": "erin", "password": "a-long-passphrase"}
        )
        self.assertRedirects(response, "/")
        self.assertContains(self.client.get("/chat/x/"), "Signed in as")
