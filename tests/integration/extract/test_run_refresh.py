"""``--full-refresh`` touches only the chosen streams and locations; ``--to`` paths are absolute."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.duckdb_sink import read_state
from ghlsync.extract.run import destination_for, run_extract
from tests.integration.extract.conftest import admin, config_for, emulator_items


def _ids(db: Path, table: str, location_id: str) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            f"SELECT id FROM highlevel.{table} WHERE location_id = ? ORDER BY id",  # noqa: S608
            [location_id],
        ).fetchall()
    return [r[0] for r in rows]


def _bookmarks(url: str, pipelines: Path, stream: str) -> dict[str, Any]:
    resources = read_state(Path(url.removeprefix("duckdb:///")))
    return dict(resources[stream]["bookmarks"])


def test_full_refresh_of_one_location_and_stream_leaves_the_rest(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    db, pipelines = tmp_path / "x.duckdb", tmp_path / "p"
    url = f"duckdb:///{db}"
    config = config_for(emulator, streams=["contacts", "opportunities"])
    a, b = config.locations
    assert run_extract(config, to=url, pipelines_dir=str(pipelines)).ok
    contacts_b, opportunities_before = _ids(db, "contacts", b), _ids(db, "opportunities", a)
    bookmarks_before = _bookmarks(url, pipelines, "contacts")
    opportunity_bookmarks = _bookmarks(url, pipelines, "opportunities")
    assert set(bookmarks_before) == {a, b} and len(contacts_b) == 120

    # deleted upstream: an incremental read never sees it; a full refresh must drop it
    gone = emulator_items(emulator, a, "contacts")[0]["id"]
    admin(emulator, "DELETE", f"/locations/{a}/contacts/{gone}")
    assert gone in _ids(db, "contacts", a)

    only_a = config_for(emulator, streams=["contacts"], locations=[a])
    result = run_extract(only_a, to=url, full_refresh=True, pipelines_dir=str(pipelines))
    assert result.ok, result.report.to_dict()
    assert result.report.totals() == {"contacts": 119}
    assert result.refreshed == {"contacts": 1}
    assert result.to_dict()["full_refresh_deleted"] == {"contacts": 1}
    assert _ids(db, "contacts", a) == sorted(
        c["id"] for c in emulator_items(emulator, a, "contacts")
    )
    assert gone not in _ids(db, "contacts", a)
    # another location, another stream, their bookmarks: untouched
    assert _ids(db, "contacts", b) == contacts_b
    assert _ids(db, "opportunities", a) == opportunities_before
    assert _ids(db, "opportunities", b)
    after = _bookmarks(url, pipelines, "contacts")
    assert after[b] == bookmarks_before[b] and a in after
    assert _bookmarks(url, pipelines, "opportunities") == opportunity_bookmarks

    # B's next run is still incremental (its bookmark survived): only the overlap window
    again = run_extract(config, to=url, pipelines_dir=str(pipelines))
    assert again.ok and again.report.result(b, "contacts").records < 50


def test_full_refresh_keeps_rows_of_a_location_that_failed(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    db, pipelines = tmp_path / "x.duckdb", tmp_path / "p"
    config = config_for(emulator, streams=["contacts"])
    a, b = config.locations
    assert run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(pipelines)).ok
    config = config.replace(tokens={**config.tokens, b: config.tokens[a]})  # 403 for B
    result = run_extract(
        config, to=f"duckdb:///{db}", full_refresh=True, pipelines_dir=str(pipelines)
    )
    assert result.report.failed_locations == [b]
    assert len(_ids(db, "contacts", b)) == 120  # not re-read, so nothing of it is deleted
    assert len(_ids(db, "contacts", a)) == 120


def test_relative_duckdb_path_is_the_current_directory(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    pipelines = str(tmp_path / "p")  # shared, as dlt's default ~/.dlt/pipelines would be
    config = config_for(emulator, streams=["users"])
    monkeypatch.chdir(one)
    first = run_extract(config, to="duckdb:///ghlsync.duckdb", pipelines_dir=pipelines)
    monkeypatch.chdir(two)
    second = run_extract(config, to="duckdb:///ghlsync.duckdb", pipelines_dir=pipelines)
    assert first.ok and second.ok
    assert (one / "ghlsync.duckdb").exists() and (two / "ghlsync.duckdb").exists()
    assert first.pipeline_name != second.pipeline_name  # two files, two sets of bookmarks
    for directory in (one, two):
        with duckdb.connect(str(directory / "ghlsync.duckdb"), read_only=True) as con:
            row = con.execute("SELECT count(*) FROM highlevel.users").fetchone()
        assert row is not None and row[0] > 0
    # the same file named relatively and absolutely is one pipeline
    monkeypatch.chdir(tmp_path)
    assert (
        destination_for("duckdb:///one/ghlsync.duckdb").identity
        == destination_for(f"duckdb:///{one / 'ghlsync.duckdb'}").identity
    )
    assert destination_for("parquet://lake").identity == f"parquet://{tmp_path / 'lake'}"
    assert os.path.isabs(destination_for("delta://lake").identity.split("://", 1)[1])
