"""database_sync_to_async inside a test transaction (Django's TestCase).

Upstream closed "old" connections even inside an atomic block: the test
transaction's connection was closed mid-test and the next query failed.
"""

from __future__ import annotations

import pytest
from channels.db import aclose_old_connections, database_sync_to_async
from django.contrib.auth.models import User
from django.test import TestCase


@pytest.mark.usefixtures("_migrated")
class TransactionSafetyTests(TestCase):
    async def test_database_sync_to_async_keeps_the_test_transaction(self) -> None:
        await database_sync_to_async(User.objects.create_user)("zed")
        await aclose_old_connections()
        exists = await database_sync_to_async(User.objects.filter(username="zed").exists)()
        assert exists

    def test_rolled_back_after_the_test(self) -> None:
        assert not User.objects.filter(username="zed").exists()
