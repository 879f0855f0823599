"""A run loads in several packages as it reads (issue 17): each with its rows and bookmarks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ghlsync.emulator import EmulatorServer
from ghlsync.extract import duckdb_sink, rounds
from ghlsync.extract.run import run_extract
from tests.integration.extract.conftest import admin, config_for, emulator_items


def test_a_run_commits_several_packages_each_with_its_bookmarks(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rounds, "PACKAGE_ROWS", 60)
    monkeypatch.setattr(duckdb_sink, "ROUND_ROWS", 60)  # a DuckDB file's rounds
    monkeypatch.setattr(rounds, "CHUNK_ROWS", 30)
    config = config_for(emulator, page_size=25, streams=["contacts", "opportunities"])
    url, pipelines = f"duckdb:///{tmp_path / 'x.duckdb'}", str(tmp_path / "p")
    phases: list[str] = []
    result = run_extract(config, to=url, pipelines_dir=pipelines, on_phase=phases.append)
    assert result.ok
    loads = [p for p in phases if p.startswith("loading ")]
    assert len(loads) >= 4  # 240 contacts + 40 opportunities in packages of about 60 rows
    expected = {
        (lid, c["id"])
        for lid in config.locations
        for c in emulator_items(emulator, lid, "contacts")
    }
    with duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT location_id, id FROM highlevel.contacts").fetchall()
        packages = con.execute(
            "SELECT count(DISTINCT _dlt_load_id) FROM highlevel.contacts"
        ).fetchone()
        opportunities = con.execute(
            "SELECT count(*), count(DISTINCT id) FROM highlevel.opportunities"
        ).fetchone()
        committed = con.execute("SELECT count(*) FROM highlevel._dlt_loads").fetchone()
    assert len(rows) == len(set(rows)) == 240 and set(rows) == expected
    assert packages is not None and packages[0] >= 3  # contacts came in several packages
    assert opportunities == (40, 40)
    assert committed is not None and committed[0] == len(loads)

    # a change after the run: the next run reads from the bookmarks the packages committed
    loc = config.locations[0]
    admin(emulator, "POST", f"/locations/{loc}/contacts", json={"firstName": "Late"})
    again = run_extract(config, to=url, pipelines_dir=pipelines)
    assert again.ok
    with duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True) as con:
        after = con.execute(
            "SELECT count(*), count(DISTINCT (location_id, id)) FROM highlevel.contacts"
        ).fetchone()
    assert after == (241, 241)
