"""SIGKILL during an extract, then a rerun: nothing lost, nothing duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from ghlsync.emulator import EmulatorServer
from tests.integration.extract.conftest import admin, config_for, emulator_items

CLI = "from ghlsync.cli import main; main()"


def _extract(config_file: Path, db: Path, pipelines: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        CLI,
        "extract",
        "--config",
        str(config_file),
        "--to",
        f"duckdb:///{db}",
        "--pipelines-dir",
        str(pipelines),
        "--json",
    ]


def test_kill_mid_run_then_rerun_loses_and_duplicates_nothing(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    config = config_for(emulator)
    config_file = tmp_path / "c.json"
    config_file.write_text(
        json.dumps(
            {
                "base_url": config.base_url,
                "locations": [{"id": i, "token": config.tokens[i]} for i in config.locations],
                "rate_limit": False,
                "page_size": 20,
            }
        )
    )
    db, pipelines = tmp_path / "x.duckdb", tmp_path / "pipelines"
    env = {**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt-data")}
    # first a complete run, then changes, then a run killed part way through its pages
    subprocess.run(_extract(config_file, db, pipelines), env=env, check=True, capture_output=True)
    loc = config.locations[0]
    for n in range(30):
        admin(
            emulator,
            "POST",
            f"/locations/{loc}/contacts",
            json={"firstName": f"New{n}", "email": f"new{n}@example.com"},
        )
    admin(emulator, "PUT", "/faults", json={"faults": "slow:1@0.25s", "seed": 1})
    before = admin(emulator, "GET", "/counts")["total"]
    process = subprocess.Popen(
        _extract(config_file, db, pipelines),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while admin(emulator, "GET", "/counts")["total"] < before + 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    admin(emulator, "PUT", "/faults", json={"faults": ""})
    done = subprocess.run(_extract(config_file, db, pipelines), env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT id FROM highlevel.contacts").fetchall()
        opps = con.execute(
            "SELECT count(*), count(DISTINCT id) FROM highlevel.opportunities"
        ).fetchone()
    ids = [r[0] for r in rows]
    expected = {
        c["id"] for lid in config.locations for c in emulator_items(emulator, lid, "contacts")
    }
    assert len(ids) == len(set(ids)) == 270
    assert set(ids) == expected
    assert opps is not None and opps[0] == opps[1] == 40
