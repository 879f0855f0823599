"""``ghlsync --help`` stays fast and plain (issue 15): registering every command group imports
no HTTP client, no dlt, no DuckDB; no help page shows a ``<bool>`` placeholder for a flag."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("httpx", "dlt", "duckdb", "pyarrow", "starlette", "uvicorn", "redis", "psycopg")


def test_registering_the_commands_imports_nothing_heavy() -> None:
    code = (
        "import sys; from ghlsync.cli import _register; _register(); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["extract"],
        ["tap"],
        ["push"],
        ["contact", "update"],
        ["serve"],
        ["events"],
        ["emulator", "serve"],
        ["auth", "status"],
        ["sql"],
        ["quickstart"],
    ],
)
def test_help_pages_show_no_bool_placeholder(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from ghlsync.cli import main; main()", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    assert "<bool>" not in done.stdout
