"""What an analyst finds in the warehouse (issue 15): the same bookkeeping columns on every
table and never NULL, timestamps as timestamps, no column twice, declared columns from the first
run, no second copy of the data left in the staging dataset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions
from ghlsync.extract.run import run_extract
from ghlsync.extract.streams import STREAMS
from tests.integration.extract.conftest import config_for


def _extract(
    server: EmulatorServer, tmp_path: Path, *extra: str, streams: list[str] | None = None
) -> Path:
    config = config_for(server)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "highlevel.json"
    path.write_text(
        json.dumps(
            {
                "base_url": config.base_url,
                "locations": [{"id": i, "token": config.tokens[i]} for i in config.locations],
                "streams": streams or sorted(s.name for s in STREAMS.values() if s.default_enabled),
                "rate_limit": False,
            }
        )
    )
    database = tmp_path / "w.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ghlsync.cli import main; main()",
            "extract",
            "--config",
            str(path),
            "--to",
            f"duckdb:///{database}",
            "--pipelines-dir",
            str(tmp_path / "p"),
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt-data")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return database


def _columns(db: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = db.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'highlevel' AND table_name = ?",
        [table],
    ).fetchall()
    return {name: kind for name, kind in rows}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """One extract of every default stream, shared by the read-only checks below."""
    options = SeedOptions(locations=2, contacts=240, opportunities=40, seed=11)
    with EmulatorServer(options, EmulatorSettings(rate_limit=None)) as server:
        database = _extract(server, tmp_path_factory.mktemp("warehouse"))
    with duckdb.connect(str(database), read_only=True) as db:
        yield db


def test_every_table_has_a_boolean_deleted_flag_that_is_never_null(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    tables = [
        name
        for (name,) in warehouse.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'highlevel' "
            "AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\' AND table_name <> '_ghlsync_state'"
        ).fetchall()
    ]
    assert {"contacts", "conversations", "calendar_events", "opportunities"} <= set(tables)
    for table in tables:
        columns = _columns(warehouse, table)
        assert columns.get("_ghlsync_deleted") == "BOOLEAN", table
        assert columns.get("location_id") == "VARCHAR", table
        nulls, live = warehouse.execute(
            f"SELECT count(*) FILTER (WHERE _ghlsync_deleted IS NULL), "  # noqa: S608
            f'count(*) FILTER (WHERE NOT _ghlsync_deleted) FROM highlevel."{table}"'
        ).fetchone() or (None, None)
        total = warehouse.execute(f'SELECT count(*) FROM highlevel."{table}"').fetchone()  # noqa: S608
        assert nulls == 0, table
        assert total is not None and live == total[0], table


def test_dates_are_timestamps_and_no_column_is_doubled(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    conversations = _columns(warehouse, "conversations")
    for name in ("date_added", "date_updated", "last_message_date"):
        assert conversations[name] == "TIMESTAMP WITH TIME ZONE", name
    for table in ("invoices", "orders", "transactions", "products"):
        columns = _columns(warehouse, table)
        assert "id" in columns and "_id" not in columns, table
    opportunities = _columns(warehouse, "opportunities")
    assert "contact_id" in opportunities and "contact__id" not in opportunities
    linked = warehouse.execute(
        "SELECT count(*) FROM highlevel.opportunities WHERE contact_id IS NOT NULL"
    ).fetchone()
    assert linked is not None and linked[0] > 0
    contacts = _columns(warehouse, "contacts")
    assert contacts["custom_field_values__renewal_date"] == "DATE"


def test_declared_columns_exist_before_any_value(warehouse: duckdb.DuckDBPyConnection) -> None:
    contacts = _columns(warehouse, "contacts")
    assert contacts["company_name"] == "VARCHAR"
    assert contacts["assigned_to"] == "VARCHAR"


def test_no_staging_copy_in_duckdb_and_dlt_staging_emptied_unless_kept(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    database = _extract(emulator, tmp_path / "a", streams=["contacts"])
    with duckdb.connect(str(database), read_only=True) as db:
        schemas = {r[0] for r in db.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
        counted = db.execute("SELECT count(*) FROM highlevel.contacts").fetchone()
    assert "highlevel_staging" not in schemas  # ghlsync merges a DuckDB file without one
    assert counted == (240,)
    # destinations dlt loads merge through <dataset>_staging: emptied after each run, unless kept
    psycopg = pytest.importorskip("psycopg")
    try:
        pg = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3)
    except Exception as error:  # any failure to connect means: no server here
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432/test unreachable: {type(error).__name__}")
    config = config_for(emulator).replace(streams=["contacts"])
    url = "postgres://postgres@127.0.0.1:5432/test"
    counts = []
    try:
        for n, keep in enumerate((False, True)):
            dataset = f"ghl_staging_{uuid.uuid4().hex[:8]}_{n}"
            pipelines = str(tmp_path / f"p{n}")
            assert run_extract(
                config, to=url, dataset=dataset, pipelines_dir=pipelines, keep_staging=keep
            ).ok
            with pg.cursor() as cur:
                cur.execute(f"SELECT count(*) FROM {dataset}_staging.contacts")  # noqa: S608
                counts.append(cur.fetchone()[0])
                cur.execute(f"DROP SCHEMA {dataset} CASCADE")
                cur.execute(f"DROP SCHEMA {dataset}_staging CASCADE")
            pg.commit()
    finally:
        pg.close()
    assert counts[0] == 0 and counts[1] > 0
