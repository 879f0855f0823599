"""``--to`` PostgreSQL (own schema, dropped after) and Parquet (filesystem destination)."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pytest

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.run import run_extract
from tests.integration.extract.conftest import admin, config_for, emulator_items

PG = "postgres://postgres@127.0.0.1:5432/test"


def _pg_connect() -> object:
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3)
    except Exception as error:  # any failure to connect means: no server here
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432/test unreachable: {type(error).__name__}")


def test_postgres_merge_and_deletes(emulator: EmulatorServer, tmp_path: Path) -> None:
    con = _pg_connect()
    dataset = f"ghl_extract_{uuid.uuid4().hex[:10]}"
    config = config_for(emulator)
    try:
        first = run_extract(config, to=PG, dataset=dataset, pipelines_dir=str(tmp_path / "p"))
        assert first.ok, first.report.to_dict()
        second = run_extract(config, to=PG, dataset=dataset, pipelines_dir=str(tmp_path / "p"))
        assert second.ok
        with con.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(f"SELECT count(*), count(DISTINCT id) FROM {dataset}.contacts")  # noqa: S608
            assert cur.fetchone() == (240, 240)
            cur.execute(f"SELECT count(*) FROM {dataset}.opportunities")  # noqa: S608
            assert cur.fetchone() == (40,)
            cur.execute(  # custom fields arrive as a jsonb column of [{id, value}]
                f"SELECT count(*) FROM {dataset}.contacts "  # noqa: S608
                "WHERE jsonb_array_length(custom_fields) > 0 AND custom_fields->0 ? 'id'"
            )
            row = cur.fetchone()
            assert row is not None and row[0] > 0
    finally:
        with con.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset} CASCADE")
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset}_staging CASCADE")
        con.commit()  # type: ignore[attr-defined]
        con.close()  # type: ignore[attr-defined]


def test_parquet_directory(emulator: EmulatorServer, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    config = config_for(emulator)
    result = run_extract(config, to=f"parquet://{out}", pipelines_dir=str(tmp_path / "p"))
    assert result.ok
    files = sorted((out / "highlevel" / "contacts").glob("*.parquet"))
    assert files
    rows = duckdb.execute(
        f"SELECT count(*), count(DISTINCT id) FROM read_parquet('{out}/highlevel/contacts/*.parquet')"  # noqa: S608
    ).fetchone()
    assert rows == (240, 240)
    loc = config.locations[0]
    opp = duckdb.execute(
        f"SELECT count(*) FROM read_parquet('{out}/highlevel/opportunities/*.parquet') "  # noqa: S608
        f"WHERE location_id = '{loc}'"
    ).fetchone()
    assert opp == (len(emulator_items(emulator, loc, "opportunities")),)


def test_delta_tables_merge(emulator: EmulatorServer, tmp_path: Path) -> None:
    deltalake = pytest.importorskip("deltalake")
    out = tmp_path / "delta"
    config = config_for(emulator, streams=["contacts", "opportunities"])
    for _ in range(2):  # the second run re-reads the overlap window: merged, not appended
        result = run_extract(config, to=f"delta://{out}", pipelines_dir=str(tmp_path / "p"))
        assert result.ok, result.report.to_dict()
    loc = config.locations[0]
    deleted = emulator_items(emulator, loc, "opportunities")[0]["id"]
    admin(emulator, "DELETE", f"/locations/{loc}/opportunities/{deleted}")
    assert run_extract(config, to=f"delta://{out}", pipelines_dir=str(tmp_path / "p")).ok
    contacts = deltalake.DeltaTable(str(out / "highlevel" / "contacts")).to_pyarrow_table()
    ids = contacts.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 240
    opportunities = deltalake.DeltaTable(str(out / "highlevel" / "opportunities"))
    opp_ids = opportunities.to_pyarrow_table().column("id").to_pylist()
    assert deleted not in opp_ids  # the tombstone deleted it (hard_delete under upsert)
    assert len(opp_ids) == len(set(opp_ids)) == 39


def test_postgres_full_refresh_of_one_location(emulator: EmulatorServer, tmp_path: Path) -> None:
    con = _pg_connect()
    dataset = f"ghl_extract_{uuid.uuid4().hex[:10]}"
    config = config_for(emulator, streams=["contacts"])
    a, b = config.locations
    pipelines = str(tmp_path / "p")
    try:
        assert run_extract(config, to=PG, dataset=dataset, pipelines_dir=pipelines).ok
        gone = emulator_items(emulator, a, "contacts")[0]["id"]
        admin(emulator, "DELETE", f"/locations/{a}/contacts/{gone}")
        only_a = config_for(emulator, streams=["contacts"], locations=[a])
        result = run_extract(
            only_a, to=PG, dataset=dataset, full_refresh=True, pipelines_dir=pipelines
        )
        assert result.ok and result.refreshed == {"contacts": 1}
        with con.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(
                f"SELECT location_id, count(*) FROM {dataset}.contacts GROUP BY 1 ORDER BY 1"  # noqa: S608
            )
            counts = dict(cur.fetchall())
            cur.execute(f"SELECT count(*) FROM {dataset}.contacts WHERE id = %s", (gone,))  # noqa: S608
            assert cur.fetchone() == (0,)
        assert counts == {a: 119, b: 120}
    finally:
        with con.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset} CASCADE")
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset}_staging CASCADE")
        con.commit()  # type: ignore[attr-defined]
        con.close()  # type: ignore[attr-defined]


def test_delta_full_refresh_of_one_location(emulator: EmulatorServer, tmp_path: Path) -> None:
    deltalake = pytest.importorskip("deltalake")
    out, pipelines = tmp_path / "delta", str(tmp_path / "p")
    config = config_for(emulator, streams=["contacts"])
    a, b = config.locations
    assert run_extract(config, to=f"delta://{out}", pipelines_dir=pipelines).ok
    gone = emulator_items(emulator, a, "contacts")[0]["id"]
    admin(emulator, "DELETE", f"/locations/{a}/contacts/{gone}")
    only_a = config_for(emulator, streams=["contacts"], locations=[a])
    result = run_extract(only_a, to=f"delta://{out}", full_refresh=True, pipelines_dir=pipelines)
    assert result.ok and result.refreshed == {"contacts": 1}
    assert not result.report.warnings
    rows = deltalake.DeltaTable(str(out / "highlevel" / "contacts")).to_pyarrow_table()
    by_location: dict[str, int] = {}
    for row in rows.select(["location_id", "id"]).to_pylist():
        by_location[row["location_id"]] = by_location.get(row["location_id"], 0) + 1
        assert row["id"] != gone
    assert by_location == {a: 119, b: 120}
