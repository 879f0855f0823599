"""The Arrow path of the dlt source: bookmarks never outrun the records dlt was handed."""

from __future__ import annotations

from pathlib import Path

import dlt
import duckdb
import pytest

from ghlsync.emulator import EmulatorServer
from ghlsync.extract import source as source_module
from ghlsync.extract.source import highlevel_source
from tests.integration.extract.conftest import config_for


def _pipeline(tmp_path: Path, db: Path) -> object:
    return dlt.pipeline(
        "arrow_test",
        destination=dlt.destinations.duckdb(str(db)),
        dataset_name="highlevel",
        pipelines_dir=str(tmp_path / "p"),
    )


def test_a_resource_closed_early_leaves_no_bookmark_past_its_records(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_module, "ARROW_ROWS", 100)  # several tables per location
    config = config_for(emulator, page_size=50, streams=["contacts"])
    db = tmp_path / "x.duckdb"
    pipeline = _pipeline(tmp_path, db)
    limited = highlevel_source(config)
    limited.resources["contacts"].add_limit(1)  # dlt stops the resource after one item
    pipeline.run(limited, loader_file_format="parquet")  # type: ignore[attr-defined]
    with duckdb.connect(str(db)) as con:
        loaded = con.execute("SELECT count(*) FROM highlevel.contacts").fetchone()
    assert loaded is not None and 0 < loaded[0] < 240
    state = pipeline.state["sources"]["highlevel"]["resources"]["contacts"]  # type: ignore[attr-defined]
    for location_id, mark in state.get("bookmarks", {}).items():
        with duckdb.connect(str(db)) as con:
            newest = con.execute(
                "SELECT max(date_updated) FROM highlevel.contacts WHERE location_id = ?",
                [location_id],
            ).fetchone()
        assert newest is not None and newest[0] is not None  # a bookmark only with its records
        assert mark["cursor"] <= newest[0].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    pipeline.run(highlevel_source(config), loader_file_format="parquet")  # type: ignore[attr-defined]
    with duckdb.connect(str(db)) as con:
        after = con.execute(
            "SELECT count(*), count(DISTINCT id) FROM highlevel.contacts"
        ).fetchone()
    assert after == (240, 240)  # the rest arrives; nothing doubled
