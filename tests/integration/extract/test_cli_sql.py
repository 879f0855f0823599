"""``ghlsync sql``: the analyst's first query, read-only, one line for every mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest


def _sql(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ghlsync.cli import main; main()", "sql", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA highlevel")
        con.execute("CREATE TABLE highlevel.contacts (id VARCHAR, source VARCHAR)")
        con.execute("INSERT INTO highlevel.contacts VALUES ('a', 'web'), ('b', 'web'), ('c', NULL)")
    return path


def test_unqualified_tables_resolve_in_the_dataset(warehouse: Path) -> None:
    done = _sql(
        "-d",
        str(warehouse),
        "--format",
        "json",
        "SELECT source, count(*) AS n FROM contacts GROUP BY 1 ORDER BY n DESC",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"source": "web", "n": 2}, {"source": None, "n": 1}]
    table = _sql("-d", str(warehouse), "SELECT id FROM contacts ORDER BY id")
    assert table.returncode == 0 and "┃ id" in table.stdout and "│ c" in table.stdout
    limited = _sql(
        "-d",
        str(warehouse),
        "--format",
        "csv",
        "--limit",
        "2",
        "SELECT id FROM contacts ORDER BY id",
    )
    assert limited.stdout.split() == ["id", "a", "b"]
    assert "--limit" in limited.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("-d", "MISSING", "SELECT 1"), "no DuckDB file at"),
        (("SELEC 1",), "the query failed: Parser Error"),
        (("SELECT * FROM nosuch",), "the query failed: Catalog Error"),
        (("DROP TABLE contacts",), "read-only"),
        (("--format", "xml", "SELECT 1"), "unknown --format"),
    ],
)
def test_mistakes_end_in_one_line_and_exit_2(
    warehouse: Path, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    if "-d" not in args:
        args = ("-d", str(warehouse), *args)
    args = tuple(str(tmp_path / "missing.duckdb") if a == "MISSING" else a for a in args)
    done = _sql(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert "hint" in lines[0].lower()
    with duckdb.connect(str(warehouse), read_only=True) as con:  # nothing changed
        assert con.execute("SELECT count(*) FROM highlevel.contacts").fetchone() == (3,)
