"""``--state-out`` is written whole or not at all: scripts wait for it to exist, then read it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ghlsync.emulator.server import ServeError, write_private


def test_the_state_file_appears_complete_private_and_leaves_nothing_beside_it(
    tmp_path: Path,
) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    seen: list[str] = []
    real_replace = os.replace

    def replace(source: str | Path, destination: str | Path) -> None:
        # at the moment the name changes hands, the old file is still whole under its name
        seen.append(Path(destination).read_text())
        real_replace(source, destination)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", replace)
        write_private(target, json.dumps({"baseUrl": "http://127.0.0.1:1"}) + "\n")
    assert seen == ["old"]
    assert json.loads(target.read_text()) == {"baseUrl": "http://127.0.0.1:1"}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_state_file_that_cannot_be_written_is_one_error_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    with pytest.raises(ServeError, match="cannot write the state file"):
        write_private(tmp_path / "missing" / "state.json", "{}")
    assert list(tmp_path.iterdir()) == []
