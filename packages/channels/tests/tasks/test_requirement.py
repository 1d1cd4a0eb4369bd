"""On a Django without django.tasks, channels.tasks fails loudly and says what it needs."""

from __future__ import annotations

import subprocess
import sys

import django
import pytest
from django.core.management import CommandError, call_command

NEEDS = "channels.tasks needs Django 6.0 or later, which added django.tasks"


@pytest.mark.skipif(django.VERSION < (6, 0), reason="the import itself fails: see the next test")
def test_the_requirement_names_the_django_version_needed_and_found() -> None:
    from channels.tasks._requirement import require_django_tasks

    with pytest.raises(ImportError, match=r"needs Django 6\.0 or later.*Django 5\.2 is installed"):
        require_django_tasks((5, 2, 8))
    require_django_tasks((6, 0))
    require_django_tasks((6, 1, 2))


def test_importing_channels_tasks_matches_the_installed_django() -> None:
    code = "import django; django.setup  # noqa\nimport channels.tasks\nprint('imported')"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    if django.VERSION >= (6, 0):
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "imported"
    else:
        assert result.returncode == 1
        assert f"ImportError: {NEEDS}" in result.stderr
        assert f"Django {django.VERSION[0]}.{django.VERSION[1]} is installed" in result.stderr


@pytest.mark.skipif(django.VERSION >= (6, 0), reason="Django 6 has django.tasks")
def test_runworker_tasks_on_old_django_is_a_command_error_naming_the_requirement() -> None:
    with pytest.raises(CommandError, match=NEEDS):
        call_command("runworker", "--tasks")
