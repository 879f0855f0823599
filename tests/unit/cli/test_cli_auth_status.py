"""``ghlsync auth status`` keeps a row per token on one short line: ~60 scopes are summarised
(their count and the first few), ``--json`` still lists them all (issue 15 item 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLI = "from ghlsync.cli import main; main()"


def _cli(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GHLSYNC_HOME": str(home), "GHLSYNC_SECRET_KEY": "k" * 32}
    return subprocess.run(
        [sys.executable, "-c", CLI, "auth", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_many_scopes_are_summarised_on_one_line(tmp_path: Path) -> None:
    scopes = [f"scope{n}.readonly" for n in range(60)]
    added = _cli(
        tmp_path,
        "add-token",
        "--location",
        "LOC1",
        "--scopes",
        " ".join(scopes),
        stdin="pit-11111111-2222-3333-4444-555555555555\n",
    )
    assert added.returncode == 0, added.stderr
    shown = _cli(tmp_path, "status")
    assert shown.returncode == 0, shown.stderr
    rows = [line for line in shown.stdout.splitlines() if "LOC1" in line]
    assert len(rows) == 1 and "60 scopes" in rows[0] and len(rows[0]) < 200
    assert "scope59.readonly" not in shown.stdout
    listed = json.loads(_cli(tmp_path, "status", "--json").stdout)
    assert listed[0]["scopes"] == scopes
