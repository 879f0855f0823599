"""A ``--full-refresh`` whose package another run loads (issue 11, item 1): no row is lost.

The refresh pauses between normalize and load (``on_phase`` is the seam: it hears "loading ..."
right before ``pipeline.load()``); meanwhile another run on the same pipeline loads the pending
package (the refresh's) and then its own incremental package, as a second ``ghlsync extract``
did before runs took a lock. The refresh's own ``load()`` then finds nothing to load. Before the
fix its sweep deleted every row of its locations; now it deletes only the rows older than its
package (the contact deleted upstream) and keeps what the other run wrote after it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dlt
import pytest

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.run import SweepRefused, destination_for, pipeline_name_for, run_extract
from ghlsync.source import highlevel_source
from tests.integration.extract.conftest import admin, config_for, emulator_items

PG = "postgres://postgres@127.0.0.1:5432/test"


def _pg() -> Any:
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3)
    except Exception as error:  # any failure to connect means: no server here
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432/test unreachable: {type(error).__name__}")


# Only destinations dlt loads: a DuckDB file is merged by ghlsync in one transaction per round
# while the run holds the file open, so no package exists for another run to load or discard
# (its full refresh: test_run_refresh.py; its rounds: test_duckdb_sink.py).
@pytest.fixture(params=["postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, Any]]:
    """(``--to`` URL, dataset, a function returning the contact ids per location)."""
    con = _pg()
    dataset = f"ghl_refresh_{uuid.uuid4().hex[:10]}"

    def pg_ids(dataset: str) -> list[tuple[str, str]]:
        with con.cursor() as cur:
            cur.execute(f"SELECT location_id, id FROM {dataset}.contacts")  # noqa: S608
            rows: list[tuple[str, str]] = cur.fetchall()
        con.commit()
        return rows

    try:
        yield PG, dataset, pg_ids
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset} CASCADE")
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset}_staging CASCADE")
        con.commit()
        con.close()


def _other_run(url: str, dataset: str, pipelines: str, config: Any) -> Callable[[], None]:
    """What a second run on the same pipeline did: load the pending package, then its own."""

    def run() -> None:
        other = dlt.pipeline(
            pipeline_name_for(destination_for(url).identity, dataset),
            destination=destination_for(url).destination,
            dataset_name=dataset,
            pipelines_dir=pipelines,
        )
        assert other.has_pending_data  # the refresh's normalized package
        other.load()
        other.run(
            highlevel_source(config), loader_file_format=destination_for(url).loader_file_format
        )

    return run


def _pause_before_load(action: Callable[[], None]) -> Callable[[str], None]:
    def on_phase(text: str) -> None:
        if text.startswith("loading ") and "pending" not in text:
            action()

    return on_phase


def test_refresh_whose_package_another_run_loaded_keeps_every_row(
    emulator: EmulatorServer, tmp_path: Path, target: tuple[str, str, Any]
) -> None:
    url, dataset, ids = target
    pipelines = str(tmp_path / "p")
    config = config_for(emulator, streams=["contacts"])
    a, b = config.locations
    assert run_extract(config, to=url, dataset=dataset, pipelines_dir=pipelines).ok
    gone = emulator_items(emulator, a, "contacts")[0]["id"]
    admin(emulator, "DELETE", f"/locations/{a}/contacts/{gone}")

    def other_run() -> None:  # a contact created after the refresh read: only the other run has it
        admin(emulator, "POST", f"/locations/{b}/contacts", json={"firstName": "Late"})
        _other_run(url, dataset, pipelines, config_for(emulator, streams=["contacts"]))()

    result = run_extract(
        config,
        to=url,
        dataset=dataset,
        full_refresh=True,
        pipelines_dir=pipelines,
        on_phase=_pause_before_load(other_run),
    )
    assert result.ok
    rows = ids(dataset)
    expected = {(loc, c["id"]) for loc in (a, b) for c in emulator_items(emulator, loc, "contacts")}
    assert len(rows) == len(set(rows)) == 240  # 240 - 1 deleted upstream + 1 created late
    assert set(rows) == expected
    assert result.refreshed == {"contacts": 1}  # the deleted contact, nothing else


def test_refresh_whose_package_was_discarded_deletes_nothing(
    emulator: EmulatorServer, tmp_path: Path, target: tuple[str, str, Any]
) -> None:
    url, dataset, ids = target
    pipelines = str(tmp_path / "p")
    config = config_for(emulator, streams=["contacts"])
    assert run_extract(config, to=url, dataset=dataset, pipelines_dir=pipelines).ok
    before = sorted(ids(dataset))

    def discard() -> None:  # another process threw the refresh's package away
        name = pipeline_name_for(destination_for(url).identity, dataset)
        packages = list((Path(pipelines) / name / "load" / "normalized").iterdir())
        assert packages
        for package in packages:
            shutil.rmtree(package)

    with pytest.raises(SweepRefused) as refused:
        run_extract(
            config,
            to=url,
            dataset=dataset,
            full_refresh=True,
            pipelines_dir=pipelines,
            on_phase=_pause_before_load(discard),
        )
    assert "nothing was deleted" in str(refused.value)
    assert "not committed" in str(refused.value)
    assert sorted(ids(dataset)) == before
