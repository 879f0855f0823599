"""Ctrl-C (SIGINT) during ``ghlsync extract``, and a refused token or an unreachable base URL:
one line each, the documented exit code, and the rerun after Ctrl-C completes (issue 15 3-4)."""

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


def _write_config(tmp_path: Path, emulator: EmulatorServer, **changes: object) -> Path:
    config = config_for(emulator)
    data: dict[str, object] = {
        "base_url": config.base_url,
        "locations": [{"id": i, "token": config.tokens[i]} for i in config.locations],
        "rate_limit": False,
        "page_size": 20,
        **changes,
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    return path


def _extract(config_file: Path, db: Path, pipelines: Path, *extra: str) -> list[str]:
    target = ["--to", f"duckdb:///{db}", "--pipelines-dir", str(pipelines)]
    return [sys.executable, "-c", CLI, "extract", "--config", str(config_file), *target, *extra]


def test_ctrl_c_while_reading_prints_one_line_exits_130_and_the_rerun_completes(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    config_file = _write_config(tmp_path, emulator)
    db, pipelines = tmp_path / "x.duckdb", tmp_path / "pipelines"
    env = {**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt-data")}
    admin(emulator, "PUT", "/faults", json={"faults": "slow:1@0.2s", "seed": 1})
    before = admin(emulator, "GET", "/counts")["total"]
    process = subprocess.Popen(
        _extract(config_file, db, pipelines),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while admin(emulator, "GET", "/counts")["total"] < before + 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    lines = [line for line in err.splitlines() if not line.endswith("...")]  # phase lines
    assert len(lines) == 1, err
    assert lines[0].startswith("interrupted while extracting: nothing of this run was loaded")
    assert "a rerun resumes" in lines[0]
    assert "Traceback" not in err and "aclose" not in err and out == ""

    admin(emulator, "PUT", "/faults", json={"faults": ""})
    done = subprocess.run(
        _extract(config_file, db, pipelines, "--json"), env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    config = config_for(emulator)
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM highlevel.contacts"
        ).fetchone()
    expected = sum(len(emulator_items(emulator, loc, "contacts")) for loc in config.locations)
    assert rows is not None and rows[0] == rows[1] == expected


def test_a_refused_token_is_one_line_per_location_with_the_url_and_a_pit_hint(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    config = config_for(emulator)
    wrong = "pit-00000000-0000-0000-0000-000000000000"
    config_file = _write_config(
        tmp_path, emulator, locations=[{"id": i, "token": wrong} for i in config.locations]
    )
    env = {**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt-data")}
    done = subprocess.run(
        _extract(config_file, tmp_path / "x.duckdb", tmp_path / "p"),
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == len(config.locations), done.stderr
    for line in failed:
        assert f"at {config.base_url}" in line and "401" in line
        assert "do not expire" in line and "expired" not in line.replace("do not expire", "")
    assert "warning" not in done.stderr  # the custom-field warning is the same failure
    assert len(done.stderr.splitlines()) <= len(config.locations) + 5, done.stderr
    assert wrong not in done.stderr + done.stdout


def test_an_unreachable_base_url_fails_after_the_normal_attempts_naming_it(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    config_file = _write_config(tmp_path, emulator, base_url="http://127.0.0.1:9")
    env = {**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt-data")}
    started = time.monotonic()
    done = subprocess.run(
        _extract(config_file, tmp_path / "x.duckdb", tmp_path / "p"),
        env=env,
        capture_output=True,
        text=True,
        timeout=250,
    )
    # the 300 s outage window is for a HighLevel that answered earlier in the run
    assert time.monotonic() - started < 200
    assert done.returncode == 1
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 2 and all("could not connect to http://127.0.0.1:9" in f for f in failed)
    assert sum("waiting for HighLevel" in line for line in done.stderr.splitlines()) <= 1
    assert "retry" not in done.stderr.replace("retrying up to", "")
    assert len(done.stderr.splitlines()) < 12, done.stderr


def test_a_parquet_run_says_append_only_once_and_the_summary_goes_to_stdout(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    config_file = _write_config(tmp_path, emulator, streams=["contacts", "users"])
    env = {**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt-data")}
    command = [sys.executable, "-c", CLI, "extract", "--config", str(config_file)]
    target = ["--to", f"parquet:///{tmp_path / 'pq'}", "--pipelines-dir", str(tmp_path / "p")]
    done = subprocess.run([*command, *target], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "|[WARNING]|" not in done.stderr
    assert sum("append-only" in line for line in done.stderr.splitlines()) == 1
    assert "ghlsync extract ->" in done.stdout and "contacts" in done.stdout
    assert "ghlsync extract ->" not in done.stderr
