"""Same data, same values in every destination (issue 11, item 3): one emulator extracted into
DuckDB and into PostgreSQL gives equal tables, cell by cell; ``""`` stays ``""`` in both (dlt's
CSV COPY into PostgreSQL used to load it as NULL: docs/extract.md says nothing is coerced)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.run import run_extract
from tests.integration.extract.conftest import admin, config_for

PG = "postgres://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg() -> Iterator[tuple[Any, str]]:
    psycopg = pytest.importorskip("psycopg")
    try:
        con = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3)
    except Exception as error:  # any failure to connect means: no server here
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432/test unreachable: {type(error).__name__}")
    dataset = f"ghl_same_{uuid.uuid4().hex[:10]}"
    try:
        yield con, dataset
    finally:
        con.rollback()
        with con.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset} CASCADE")
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset}_staging CASCADE")
        con.commit()
        con.close()


def _cell(value: Any, is_json: bool) -> Any:
    """One comparable form of a cell (drivers differ in types, not in values)."""
    if is_json and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


def _comparable(
    rows: list[tuple[Any, ...]], columns: list[str], json_columns: set[str], key: list[int]
) -> list[tuple[Any, ...]]:
    cells = [
        tuple(_cell(v, c in json_columns) for v, c in zip(row, columns, strict=True))
        for row in rows
    ]
    return sorted(cells, key=lambda r: tuple(str(r[i]) for i in key))


def _duck_rows(db: Path, table: str) -> tuple[list[str], list[tuple[Any, ...]], set[str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        described = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'highlevel' AND table_name = ? ORDER BY column_name",
            [table],
        ).fetchall()
        columns = [c for c, _ in described if not c.startswith("_dlt")]
        json_columns = {c for c, kind in described if kind == "JSON"}
        rows = con.execute(
            f"SELECT {', '.join(columns)} FROM highlevel.{table}"  # noqa: S608
        ).fetchall()
    return columns, rows, json_columns


def test_duckdb_and_postgres_hold_the_same_values(
    emulator: EmulatorServer, tmp_path: Path, pg: tuple[Any, str]
) -> None:
    con, dataset = pg
    loc = config_for(emulator).locations[0]
    # empty strings as HighLevel sends them, next to fields that are absent (NULL)
    for n in range(3):
        admin(
            emulator,
            "POST",
            f"/locations/{loc}/contacts",
            json={"firstName": "", "lastName": f"Empty{n}", "companyName": "", "source": ""},
        )
    config = config_for(emulator)
    db = tmp_path / "x.duckdb"
    assert run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p")).ok
    assert run_extract(config, to=PG, dataset=dataset, pipelines_dir=str(tmp_path / "p")).ok
    with duckdb.connect(str(db), read_only=True) as duck:
        tables = [
            r[0]
            for r in duck.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'highlevel' AND table_name NOT LIKE '_dlt%'"
                " AND table_name <> '_ghlsync_state'"
            ).fetchall()
        ]
    assert "contacts" in tables and len(tables) >= 8
    empties = 0
    for table in sorted(tables):
        columns, duck_rows, json_columns = _duck_rows(db, table)
        with con.cursor() as cur:
            cur.execute(f"SELECT {', '.join(columns)} FROM {dataset}.{table}")  # noqa: S608
            pg_rows = cur.fetchall()
        key = [columns.index("location_id"), columns.index("id")]
        duck_side = _comparable(duck_rows, columns, json_columns, key)
        pg_side = _comparable(pg_rows, columns, json_columns, key)
        assert len(duck_side) == len(pg_side), table
        for duck_row, pg_row in zip(duck_side, pg_side, strict=True):
            for column, a, b in zip(columns, duck_row, pg_row, strict=True):
                assert a == b, (table, column, duck_row[key[1]], a, b)
        empties += sum(1 for row in duck_side for v in row if v == "")
    assert empties >= 9  # the three contacts' empty strings at least, in both
