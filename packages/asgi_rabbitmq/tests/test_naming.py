"""Channel names carry the owning layer's client id, whatever the prefix."""

from __future__ import annotations

import pytest
from asgi_rabbitmq._naming import client_id_of, make_channel_name, new_client_id
from asgiref.layers import InvalidChannelName, non_local_name


@pytest.mark.parametrize("prefix", ["specific.", "specific", "http.response.", "x", ""])
def test_client_id_survives_any_prefix(prefix: str) -> None:
    client = new_client_id()
    name = make_channel_name(prefix, client)
    assert client_id_of(name) == client
    assert non_local_name(name).endswith(f"{client}!")


def test_names_are_unique() -> None:
    client = new_client_id()
    assert len({make_channel_name("specific.", client) for _ in range(1000)}) == 1000


def test_bad_prefix_is_refused() -> None:
    with pytest.raises(InvalidChannelName):
        make_channel_name("bad prefix", new_client_id())
    with pytest.raises(InvalidChannelName, match="must be a str"):
        make_channel_name(3, new_client_id())  # type: ignore[arg-type]


def test_foreign_names_map_to_some_segment() -> None:
    assert client_id_of("abc!x") == "abc"
    assert client_id_of("a.b.c!") == "c"
