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


def test_crash_between_extract_and_load_then_rerun(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    import dlt

    from ghlsync.extract.run import destination_for, pipeline_name_for, run_extract
    from ghlsync.source import highlevel_source

    config = config_for(emulator)
    url, pipelines = f"duckdb:///{tmp_path / 'x.duckdb'}", str(tmp_path / "p")
    pipeline = dlt.pipeline(
        pipeline_name_for(url, "highlevel"),
        destination=destination_for(url).destination,
        dataset_name="highlevel",
        pipelines_dir=pipelines,
    )
    pipeline.extract(highlevel_source(config))  # bookmarks advance in a package never loaded
    assert pipeline.list_extracted_load_packages() or pipeline.list_normalized_load_packages()
    loc = config.locations[0]
    admin(
        emulator,
        "POST",
        f"/locations/{loc}/contacts",
        json={"firstName": "Late", "email": "late@example.com"},
    )

    result = run_extract(config, to=url, pipelines_dir=pipelines)
    assert result.ok
    with duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM highlevel.contacts").fetchall()]
    expected = {
        c["id"] for lid in config.locations for c in emulator_items(emulator, lid, "contacts")
    }
    assert len(ids) == len(set(ids)) == 241
    assert set(ids) == expected
