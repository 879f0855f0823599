"""Push sources: sniffed CSV, JSONL, Parquet, DuckDB, SQLite, PostgreSQL, stdin; in batches."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
import uuid
from pathlib import Path

import pytest

from ghlsync.errors import ConfigError
from ghlsync.push.readers import open_source


def rows_of(source: object, size: int = 2) -> list[dict[str, object]]:
    out = []
    for batch in source.batches(size):  # type: ignore[attr-defined]
        assert len(batch) <= size
        out += [row.values for row in batch]
    return out


def test_csv_with_bom_semicolons_and_cp1252(tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfemail;first_name\nann@example.com;Ann\nbob@example.com;Bob\n")
    source = open_source(str(bom))
    assert source.columns == ["email", "first_name"]
    assert rows_of(source) == [
        {"email": "ann@example.com", "first_name": "Ann"},
        {"email": "bob@example.com", "first_name": "Bob"},
    ]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("email\tname\nzoe@example.com\tZoë Müller\n".encode("cp1252"))
    source = open_source(str(latin))
    assert rows_of(source) == [{"email": "zoe@example.com", "name": "Zoë Müller"}]


def test_csv_short_and_long_rows(tmp_path: Path) -> None:
    path = tmp_path / "rag.csv"
    path.write_text('a,b,c\n1,2\n1,2,3,4\n"x, y",2,3\n')
    batches = list(open_source(str(path)).batches(10))
    rows = batches[0]
    assert rows[0].values == {"a": "1", "b": "2", "c": ""} and rows[0].malformed is None
    assert rows[1].malformed == "4 fields where the header has 3"
    assert rows[1].values["_raw"] == "1,2,3,4"
    assert rows[2].values["a"] == "x, y"
    assert [r.number for r in rows] == [1, 2, 3]


def test_csv_problems_are_config_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ConfigError, match="empty"):
        open_source(str(empty))
    twice = tmp_path / "twice.csv"
    twice.write_text("email,email\n")
    with pytest.raises(ConfigError, match="appears twice"):
        open_source(str(twice))
    with pytest.raises(ConfigError, match="does not exist"):
        open_source(str(tmp_path / "missing.csv"))
    odd = tmp_path / "x.bin"
    odd.write_text("?")
    with pytest.raises(ConfigError, match="cannot tell"):
        open_source(str(odd))
    with pytest.raises(ConfigError, match="apply to databases"):
        open_source(str(twice), query="select 1")


def test_jsonl_objects_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"email": "a@b.io", "traits": {"plan": "pro"}}\n\nnot json\n[1]\n{"email": "c@d.io"}\n'
    )
    source = open_source(str(path))
    assert source.columns == ["email", "traits"]
    rows = [row for batch in source.batches(10) for row in batch]
    assert [r.malformed for r in rows] == [None, "not valid JSON", "not a JSON object", None]
    assert rows[0].values["traits"] == {"plan": "pro"}
    assert rows[1].number == 3


def test_parquet_in_batches(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"email": [f"p{i}@x.io" for i in range(5)], "n": list(range(5))}),
                   path, row_group_size=2)  # fmt: skip
    source = open_source(str(path))
    assert source.columns == ["email", "n"]
    assert [r["n"] for r in rows_of(source)] == [0, 1, 2, 3, 4]


def test_duckdb_table_and_query(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA highlevel")
        con.execute("CREATE TABLE highlevel.contacts AS SELECT 'a@b.io' AS email, 1 AS n")
    assert rows_of(open_source(str(path), table="highlevel.contacts")) == [
        {"email": "a@b.io", "n": 1}
    ]
    assert rows_of(
        open_source(f"duckdb:///{path}", query="select n + 1 as m from highlevel.contacts")
    ) == [{"m": 2}]
    with pytest.raises(ConfigError, match="say what to read"):
        open_source(str(path))
    with pytest.raises(ConfigError, match="failed in DuckDB"):
        open_source(str(path), query="select * from nope")
    with pytest.raises(ConfigError, match="not a table name"):
        open_source(str(path), table="x; drop table y")


def test_sqlite_query(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE users (email TEXT, plan TEXT)")
        con.executemany("INSERT INTO users VALUES (?, ?)", [("a@b.io", "pro"), ("c@d.io", "free")])
    source = open_source(f"sqlite:///{path}", query="select email, plan from users order by email")
    assert rows_of(source, 1) == [
        {"email": "a@b.io", "plan": "pro"},
        {"email": "c@d.io", "plan": "free"},
    ]
    assert rows_of(open_source(str(path), table="users"))[0]["plan"] == "pro"


def test_postgres_query_streams_through_a_server_side_cursor() -> None:
    psycopg = pytest.importorskip("psycopg")
    url = "postgresql://postgres@127.0.0.1:5432/test"
    try:
        con = psycopg.connect(url, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    schema = f"push_{uuid.uuid4().hex[:10]}"
    with con:
        con.execute(f"CREATE SCHEMA {schema}")
        create = f"CREATE TABLE {schema}.people AS SELECT 'p' || g || '@x.io' AS email, g AS n"
        con.execute(create + " FROM generate_series(1, 5) g")
        con.commit()
        try:
            source = open_source(url, query=f"select email, n from {schema}.people order by n")  # noqa: S608
            assert source.columns == ["email", "n"]
            assert [r["n"] for r in rows_of(source, 2)] == [1, 2, 3, 4, 5]
            with pytest.raises(ConfigError, match="failed in PostgreSQL"):
                open_source(url, query="select * from nowhere_at_all")
            with pytest.raises(ConfigError, match="cannot connect") as info:
                open_source("postgresql://postgres:s3cret@127.0.0.1:1/test", query="select 1")
            assert "s3cret" not in str(info.value)
        finally:
            con.execute(f"DROP SCHEMA {schema} CASCADE")
            con.commit()


def test_stdin_is_sniffed(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = "\n".join(json.dumps({"email": f"s{i}@x.io"}) for i in range(3))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines.encode())))
    source = open_source("-")
    assert source.name == "stdin"
    assert [r["email"] for r in rows_of(source)] == ["s0@x.io", "s1@x.io", "s2@x.io"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"email\nq@x.io\n")))
    assert rows_of(open_source("-")) == [{"email": "q@x.io"}]
