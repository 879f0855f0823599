"""Shared by every test: a private GHLSYNC_HOME, so no test reads or writes the user's token
store or daily rate-limit counts (``$GHLSYNC_HOME/ratelimit.sqlite3``), nor another test's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_ghlsync_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("ghlsync-home")
    monkeypatch.setenv("GHLSYNC_HOME", str(home))
    # pytest-xdist's workers export COLUMNS=80; a CLI run as a child must see what a pipe
    # gives a user (no COLUMNS), or its summary tables are cut at 80 columns
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    return home
