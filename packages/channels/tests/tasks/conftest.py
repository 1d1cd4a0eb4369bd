"""Fixtures for channels.tasks: the result-store app installed, TASKS configured.

On a Django without ``django.tasks`` (before 6.0) only ``test_requirement.py``
is collected, and it checks the error users get there; the header of the test
run says so, so the other modules are never left out silently.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import django
import pytest

HERE = Path(__file__).resolve().parent
HAS_TASKS = django.VERSION >= (6, 0)

collect_ignore = (
    []
    if HAS_TASKS
    else [path.name for path in HERE.glob("test_*.py") if path.name != "test_requirement.py"]
)


def pytest_report_header(config: pytest.Config) -> str:
    if HAS_TASKS:
        return f"channels.tasks: Django {django.get_version()} has django.tasks; all tests run"
    return (
        f"channels.tasks: Django {django.get_version()} has no django.tasks; only "
        "tests/tasks/test_requirement.py runs (it checks the ImportError)"
    )


if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from channels_tasks_support import tasks_setting  # noqa: E402


@pytest.fixture
def task_store(_migrated: None) -> Iterator[None]:
    """channels.tasks installed and migrated, TASKS on the in-memory layer; rows cleared."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings

    apps = [*settings.INSTALLED_APPS, "channels.tasks"]
    with override_settings(INSTALLED_APPS=apps, TASKS=tasks_setting()):
        call_command("migrate", "channels_tasks", verbosity=0, interactive=False)
        yield
        from channels.tasks.models import TaskRecord

        TaskRecord.objects.all().delete()
