"""Conformance tests for groups: fan-out, membership, discard, group expiry."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.layers import InvalidChannelName, InvalidGroupName, InvalidMessage

from ._harness import Harness

__all__ = ["GroupTests"]


class GroupTests(Harness):
    """group_add / group_discard / group_send and group expiry."""

    __test__ = False

    def test_group_send_reaches_every_member(self) -> None:
        """group_send() delivers the message to every member channel."""
        self.require("groups")

        async def body(layer: Any) -> None:
            group = self.name("group")
            members = [self.name("member") for _ in range(5)]
            for member in members:
                await layer.group_add(group, member)
            await layer.group_send(group, {"type": "test.fanout", "items": [1, {"a": b"b"}]})
            for member in members:
                await self.expect(layer, member, {"type": "test.fanout", "items": [1, {"a": b"b"}]})

        self.run(body)

    def test_group_send_to_many_members(self) -> None:
        """group_send() to a 200-member group reaches every member."""
        self.require("groups")
        count = 200

        async def body(layer: Any) -> None:
            group = self.name("big-group")
            members = [self.name("member") for _ in range(count)]
            for member in members:
                await layer.group_add(group, member)
            await layer.group_send(group, {"type": "test.fanout"})
            for position, member in enumerate(members):
                # self.receive fails the test at the first member left out.
                got = await self.receive(layer, member)
                assert got == {"type": "test.fanout"}, f"member {position} got {got!r}"

        self.run(body)

    def test_group_members_get_independent_messages(self) -> None:
        """Members get independent copies: mutating one (or the original) changes no other."""
        self.require("groups")

        async def body(layer: Any) -> None:
            group, first, second = self.name("group"), self.name("m1"), self.name("m2")
            await layer.group_add(group, first)
            await layer.group_add(group, second)
            message: dict[str, Any] = {"type": "test.shared", "items": [1]}
            await layer.group_send(group, message)
            message["items"].append("sender-mutation")
            got = await self.receive(layer, first)
            got["items"].append("receiver-mutation")
            await self.expect(layer, second, {"type": "test.shared", "items": [1]})

        self.run(body)

    def test_group_add_twice_delivers_once(self) -> None:
        """Adding a channel to a group twice still delivers each group_send once."""
        self.require("groups")

        async def body(layer: Any) -> None:
            group, member = self.name("group"), self.name("member")
            await layer.group_add(group, member)
            await layer.group_add(group, member)
            await layer.group_send(group, {"type": "test.once"})
            await layer.send(member, {"type": "test.marker"})
            await self.expect(layer, member, {"type": "test.once"})
            await self.expect(layer, member, {"type": "test.marker"})

        self.run(body)

    def test_group_discard_stops_delivery(self) -> None:
        """A discarded member gets no more group messages; the others still do."""
        self.require("groups")

        async def body(layer: Any) -> None:
            group, kept, dropped = self.name("group"), self.name("kept"), self.name("dropped")
            await layer.group_add(group, kept)
            await layer.group_add(group, dropped)
            await layer.group_discard(group, dropped)
            await layer.group_send(group, {"type": "test.after-discard"})
            await layer.send(dropped, {"type": "test.marker"})
            await self.expect(layer, dropped, {"type": "test.marker"})
            await self.expect(layer, kept, {"type": "test.after-discard"})

        self.run(body)

    def test_group_discard_of_unknown_member_or_group_is_fine(self) -> None:
        """Discarding a non-member, or from an unknown group, is not an error."""
        self.require("groups")

        async def body(layer: Any) -> None:
            group = self.name("group")
            await layer.group_discard(self.name("never-created"), self.name("nobody"))
            await layer.group_add(group, self.name("member"))
            await layer.group_discard(group, self.name("not-a-member"))

        self.run(body)

    def test_group_send_to_empty_or_unknown_group_is_fine(self) -> None:
        """group_send() to an unknown or emptied group is not an error."""
        self.require("groups")

        async def body(layer: Any) -> None:
            await layer.group_send(self.name("nobody-home"), {"type": "test.void"})
            group, member = self.name("group"), self.name("member")
            await layer.group_add(group, member)
            await layer.group_discard(group, member)
            await layer.group_send(group, {"type": "test.void"})

        self.run(body)

    def test_invalid_group_names_are_rejected(self) -> None:
        """Bad group names raise InvalidGroupName; the layer keeps serving the good ones."""
        self.require("groups")
        bad_groups: list[Any] = ["", "with space", "bang!", "a" * 100, 7, None]

        async def body(layer: Any) -> None:
            member = self.name("member")
            for bad in bad_groups:
                with pytest.raises(InvalidGroupName):
                    await layer.group_add(bad, member)
                with pytest.raises(InvalidGroupName):
                    await layer.group_send(bad, {"type": "test.bad"})
                with pytest.raises(InvalidGroupName):
                    await layer.group_discard(bad, member)
            with pytest.raises(InvalidChannelName):
                await layer.group_add(self.name("group"), "not valid")
            with pytest.raises(InvalidMessage):
                await layer.group_send(self.name("group"), ["not", "a", "dict"])
            group = self.name("group")
            await layer.group_add(group, member)
            await layer.group_send(group, {"type": "test.still-serving"})
            await self.expect(layer, member, {"type": "test.still-serving"})

        self.run(body)

    def test_group_membership_expires(self) -> None:
        """Membership ends after ``group_expiry``: later group_sends skip it."""
        self.require("groups", "group_expiry")

        async def body(layer: Any) -> None:
            group, member = self.name("group"), self.name("member")
            await layer.group_add(group, member)
            await self.sleep_past_expiry()
            await layer.group_send(group, {"type": "test.too-late"})
            await layer.send(member, {"type": "test.marker"})
            await self.expect(layer, member, {"type": "test.marker"})

        # A long message expiry, so that only the membership can have expired.
        self.run(body, group_expiry=self.expiry_seconds, expiry=60)
