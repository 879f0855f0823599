"""ghlsync's own DuckDB load (issue 17): a round's rows, bookmarks and load record commit
together or not at all; merges keep one row per key; a warehouse dlt wrote carries on."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.duckdb_sink import MEMORY_FLOOR_MB, SCAN_MEMORY_MB, DuckDBSink, read_state
from ghlsync.extract.rounds import Part
from ghlsync.extract.routing import Item, items, shaper_for
from ghlsync.extract.run import pipeline_name_for, run_extract
from ghlsync.extract.streams import STREAMS
from tests.integration.extract.conftest import admin, config_for, count, emulator_items

CONTACTS = STREAMS["contacts"]


def _part(rows: list[dict[str, Any]], bookmarks: dict[str, Any]) -> Part:
    """A round's share of contacts, shaped as the reader shapes them."""
    shaped = items(CONTACTS, None, shaper_for(CONTACTS, {}), rows)
    return Part(items=shaped, bookmarks=bookmarks, rows=len(rows))


def _rows(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT location_id, id, first_name FROM highlevel.contacts ORDER BY 1, 2"
        ).fetchall()


def test_rounds_merge_on_the_key_and_commit_their_bookmarks(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    sink = DuckDBSink.open(db, "highlevel", "duckdb:///w.duckdb")
    try:
        first = _part(
            [
                {"id": "c1", "location_id": "L", "firstName": "Ann"},
                {"id": "c2", "location_id": "L", "firstName": "Bob"},
                {
                    "id": "c1",
                    "location_id": "L",
                    "firstName": "Ann (later)",
                },  # same key: last wins
            ],
            {"L": {"cursor": "2026-01-01T00:00:00.000Z"}},
        )
        loaded = sink.load([CONTACTS], {"contacts": first})
        assert loaded is not None and loaded[1] == 2
        second = _part(
            [
                {"id": "c2", "location_id": "L", "firstName": "Bob", "tags": ["vip"]},
                {"id": "c1", "location_id": "L", "_ghlsync_deleted": True},  # a tombstone
            ],
            {"L": {"cursor": "2026-01-02T00:00:00.000Z"}},
        )
        assert sink.load([CONTACTS], {"contacts": second}) is not None
        # nothing new: no load, no _dlt_loads row
        assert sink.load([CONTACTS], {"contacts": Part(bookmarks=second.bookmarks)}) is None
    finally:
        sink.close()
    assert _rows(db) == [("L", "c2", "Bob")]
    assert read_state(db)["contacts"] == {
        "bookmarks": {"L": {"cursor": "2026-01-02T00:00:00.000Z"}}
    }
    with duckdb.connect(str(db), read_only=True) as con:
        kinds = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'highlevel' AND table_name = 'contacts'"
            ).fetchall()
        )
        loads = con.execute("SELECT count(*), min(status) FROM highlevel._dlt_loads").fetchone()
        tags = con.execute("SELECT tags->>0 FROM highlevel.contacts").fetchone()
    assert kinds["tags"] == "JSON" and kinds["_ghlsync_deleted"] == "BOOLEAN"
    assert kinds["_dlt_load_id"] == "VARCHAR"
    assert loads == (2, 0) and tags == ("vip",)


def test_a_key_two_chunks_of_a_round_share_keeps_the_later_chunks_row(tmp_path: Path) -> None:
    """The reader hands a round over in chunks (items), merged in order: a key two chunks
    share keeps the later chunk's row, and a column only a later chunk has is NULL in the
    earlier rows."""
    db = tmp_path / "w.duckdb"
    shaper = shaper_for(CONTACTS, {})
    chunks = [
        [
            {"id": "c1", "location_id": "L", "firstName": "Ann"},
            {"id": "c2", "location_id": "L", "firstName": "Bob"},
        ],
        [
            {"id": "c3", "location_id": "L", "firstName": "Cy", "customerTier": "gold"},
            {"id": "c1", "location_id": "L", "firstName": "Ann (updated while read)"},
        ],
    ]
    shaped = [item for rows in chunks for item in items(CONTACTS, None, shaper, rows)]
    assert len(shaped) == 2 and not any(item.data.repeated_keys for item in shaped)
    part = Part(items=shaped, bookmarks={"L": {"cursor": "C"}}, rows=4)
    sink = DuckDBSink.open(db, "highlevel", "duckdb:///w.duckdb")
    try:
        loaded = sink.load([CONTACTS], {"contacts": part})
    finally:
        sink.close()
    assert loaded is not None
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT id, first_name, customer_tier FROM highlevel.contacts ORDER BY id"
        ).fetchall()
    assert rows == [
        ("c1", "Ann (updated while read)", None),
        ("c2", "Bob", None),
        ("c3", "Cy", "gold"),
    ]


def test_a_round_that_fails_leaves_neither_its_rows_nor_its_bookmarks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    sink = DuckDBSink.open(db, "highlevel", "duckdb:///w.duckdb")
    try:
        good = _part([{"id": "c1", "location_id": "L", "firstName": "Ann"}], {"L": {"cursor": "A"}})
        assert sink.load([CONTACTS], {"contacts": good}) is not None
        bad = _part(
            [
                {"id": "c2", "location_id": "L", "firstName": "Bob"},
                {"id": "c3", "location_id": "L", "firstName": "Cy", "new_column": 5},
            ],
            {"L": {"cursor": "B"}},
        )
        merged: list[str] = []
        original = DuckDBSink._insert

        def insert_then_fail(
            self: DuckDBSink, table: str, item: Item, staged: str, load_id: str
        ) -> int:
            original(self, table, item, staged, load_id)  # the rows and the new column go in
            merged.append(load_id)
            raise OSError("disk full")

        monkeypatch.setattr(DuckDBSink, "_insert", insert_then_fail)
        with pytest.raises(OSError):
            sink.load([CONTACTS], {"contacts": bad})
        monkeypatch.undo()
        assert merged  # it failed after writing, inside the transaction
        # the same connection carries on: the failed round's column was rolled back too
        assert sink.load([CONTACTS], {"contacts": bad}) is not None
    finally:
        sink.close()
    assert _rows(db) == [("L", "c1", "Ann"), ("L", "c2", "Bob"), ("L", "c3", "Cy")]
    assert read_state(db)["contacts"]["bookmarks"] == {"L": {"cursor": "B"}}


def test_a_warehouse_dlt_wrote_keeps_its_bookmarks_and_rows(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """The first ghlsync run on a warehouse an earlier version (dlt) loaded copies dlt's
    bookmarks: it reads only what changed, and the rows stay one per key."""
    import dlt

    from ghlsync.source import highlevel_source

    db, pipelines = tmp_path / "x.duckdb", tmp_path / "p"
    config = config_for(emulator, streams=["contacts", "opportunities"])
    pipeline = dlt.pipeline(
        pipeline_name_for(f"duckdb://{db}", "highlevel"),
        destination=dlt.destinations.duckdb(str(db)),
        dataset_name="highlevel",
        pipelines_dir=str(pipelines),
    )
    pipeline.run(highlevel_source(config))
    before = pipeline.state["sources"]["highlevel"]["resources"]
    loc = config.locations[0]
    admin(emulator, "POST", f"/locations/{loc}/contacts", json={"firstName": "Late"})
    searches = count(emulator, "POST /contacts/search")

    result = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(pipelines))

    assert result.ok
    # incremental: one search page per location, not a full re-read of 120 contacts each
    assert count(emulator, "POST /contacts/search") - searches <= 2 * len(config.locations)
    state = read_state(db)
    assert set(state) == {"contacts", "opportunities"}
    for location_id in config.locations:
        old = before["contacts"]["bookmarks"][location_id]["cursor"]
        assert state["contacts"]["bookmarks"][location_id]["cursor"] >= old
    expected = {
        (lid, c["id"])
        for lid in config.locations
        for c in emulator_items(emulator, lid, "contacts")
    }
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT location_id, id FROM highlevel.contacts").fetchall()
    assert len(rows) == len(set(rows)) == 241 and set(rows) == expected


def test_an_extract_into_duckdb_imports_neither_dlt_nor_pyarrow_nor_cryptography(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """The DuckDB path's memory: dlt (~50 MiB), pyarrow (~45) and cryptography (~9, for an
    encrypted token store only) stay out of a run with private tokens."""
    config = config_for(emulator, streams=["contacts", "custom_objects", "custom_object_records"])
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "base_url": config.base_url,
                "locations": [{"id": i, "token": config.tokens[i]} for i in config.locations],
                "streams": list(config.streams or []),
                "rate_limit": False,
            }
        )
    )
    script = (
        "import sys\n"
        "from ghlsync.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "print(sorted(m for m in ('dlt', 'pyarrow', 'cryptography') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "extract",
            "--config",
            str(path),
            "--to",
            f"duckdb:///{tmp_path / 'x.duckdb'}",
            "--pipelines-dir",
            str(tmp_path / "p"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
    with duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM highlevel.contacts").fetchall()[0][0] > 0


def test_a_dataset_is_named_as_dlt_names_it(emulator: EmulatorServer, tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    config = config_for(emulator, streams=["users"])
    assert run_extract(
        config, to=f"duckdb:///{db}", dataset="My Data", pipelines_dir=str(tmp_path / "p")
    ).ok
    with duckdb.connect(str(db), read_only=True) as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
        users = con.execute("SELECT count(*) FROM my_data.users").fetchall()
    assert "my_data" in schemas and "My Data" not in schemas
    assert users[0][0] == sum(len(emulator_items(emulator, i, "users")) for i in config.locations)
    assert set(read_state(db, "My Data")) == {"users"}


def test_rounds_of_many_wide_chunks_load_within_duckdbs_memory_limit(tmp_path: Path) -> None:
    """Rounds of five 1,000-row chunks of wide contacts under the loader's own
    ``memory_limit``, the table growing to 60,000 rows: staging a round's chunks together once
    ran out of it (``OutOfMemoryException``) in a real run."""
    db = tmp_path / "w.duckdb"
    shaper = shaper_for(CONTACTS, {})
    text = "x" * 300

    def chunk(round_: int, n: int) -> list[dict[str, Any]]:
        return [
            {
                "id": f"c{round_}-{n}-{i}",
                "location_id": "L",
                "firstName": f"Name {i}",
                "dateAdded": "2026-01-02T03:04:05.000Z",
                "tags": [f"tag{j}" for j in range(10)],
                "customFields": [{"id": f"f{j}", "value": text} for j in range(4)],
                **{f"note{j}": f"{text}{i}" for j in range(6)},
            }
            for i in range(1_000)
        ]

    sink = DuckDBSink.open(db, "highlevel", "duckdb:///w.duckdb")
    try:
        for round_ in range(12):
            shaped = [
                it for n in range(5) for it in items(CONTACTS, None, shaper, chunk(round_, n))
            ]
            part = Part(items=shaped, bookmarks={"L": {"cursor": str(round_)}}, rows=5_000)
            assert sink.load([CONTACTS], {"contacts": part}) is not None
    finally:
        sink.close()
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute("SELECT count(*), count(DISTINCT id) FROM highlevel.contacts")
        assert found.fetchall() == [(60_000, 60_000)]


def test_a_table_of_hundreds_of_columns_loads_and_small_runs_add_no_row_groups(
    tmp_path: Path,
) -> None:
    """A record with 250 fields of its own (a custom object can have that many) becomes a table
    of ~300 columns: DuckDB holds a block or more per column in a commit and a checkpoint, so a
    fixed 32 MB limit failed the commit (and, vacuuming, the checkpoint with a FATAL error).
    The rounds' checkpoints do not vacuum; a small run's does, so small runs do not each leave
    a row group of their own."""
    db = tmp_path / "w.duckdb"
    shaper = shaper_for(CONTACTS, {})

    def run(rounds: list[range]) -> int:
        """Load rounds of those rows as one run; the table's row groups after."""
        sink = DuckDBSink.open(db, "highlevel", "duckdb:///w.duckdb")
        try:
            for ids in rounds:
                n = len(ids)
                records = [
                    {
                        "id": f"c{i}",
                        "location_id": "L",
                        **{f"field{j}": f"value {i * j} of {j} ({n})" for j in range(250)},
                    }
                    for i in ids
                ]
                shaped = items(CONTACTS, None, shaper, records)
                part = Part(items=shaped, bookmarks={"L": {"cursor": str(n)}}, rows=n)
                assert sink.load([CONTACTS], {"contacts": part}) is not None
            assert sink.memory_mb > MEMORY_FLOOR_MB  # grown with the table
            sink.finish()
            return _row_groups(sink.connection)
        finally:
            sink.close()

    after_first = run([range(0, 2_000), range(2_000, 5_000), range(5_000, 8_000)])
    assert after_first > 1
    assert run([range(20)]) <= after_first  # a few changed rows
    assert run([range(30)]) <= after_first
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute("SELECT count(*), count(DISTINCT id) FROM highlevel.contacts")
        assert found.fetchall() == [(8_000, 8_000)]
        rows = con.execute(
            "SELECT id, field249 FROM highlevel.contacts WHERE id IN ('c19', 'c29', 'c7999')"
        ).fetchall()
        assert sorted(rows) == [
            ("c19", "value 4731 of 249 (30)"),
            ("c29", "value 7221 of 249 (30)"),
            ("c7999", "value 1991751 of 249 (3000)"),
        ]


def _row_groups(con: Any) -> int:
    found = con.execute(
        "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('highlevel.contacts')"
    ).fetchall()
    return int(found[0][0])


def test_duckdb_keeps_no_table_blocks_cached_between_rounds(tmp_path: Path) -> None:
    """DuckDB keeps every block it reads or writes cached up to its memory limit: the run's
    memory grew with the table (15 MB of it at 100,000 contacts) until the loader dropped them
    after each round."""
    db = tmp_path / "w.duckdb"
    shaper = shaper_for(CONTACTS, {})
    sink = DuckDBSink.open(db, "highlevel", "duckdb:///w.duckdb")
    cached = []
    try:
        for round_ in range(8):
            records = [
                {
                    "id": f"c{round_}-{i}",
                    "location_id": "L",
                    **{f"note{j}": f"note {j} of contact {round_}-{i}" for j in range(8)},
                }
                for i in range(5_000)
            ]
            part = Part(items=items(CONTACTS, None, shaper, records), rows=5_000)
            assert sink.load([CONTACTS], {"contacts": part}) is not None
            found = sink.connection.execute(
                "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() "
                "WHERE tag = 'BASE_TABLE'"
            ).fetchall()
            cached.append(int(found[0][0]))
    finally:
        sink.close()
    assert max(cached) < 2**20, cached
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM highlevel.contacts").fetchall() == [(40_000,)]


class _Recording:
    """A DuckDB connection that notes each statement, and after a ``DELETE`` how much of the
    tables DuckDB keeps cached."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.statements: list[str] = []
        self.cached_after_delete: list[int] = []

    def execute(self, sql: str, *args: Any) -> Any:
        self.statements.append(sql.split()[0])
        result = self.connection.execute(sql, *args)
        if sql.startswith("DELETE"):
            result = result.fetchall()
            found = self.connection.execute(
                "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() "
                "WHERE tag = 'BASE_TABLE'"
            ).fetchall()
            self.cached_after_delete.append(int(found[0][0]))
            return _Fetched(result)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


class _Fetched:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def fetchall(self) -> list[Any]:
        return self.rows


def _large_contacts(db: Path, stored: int) -> None:
    """A contacts table of ``stored`` rows (ids ``_key(0)`` on, random-looking as HighLevel's
    are: they do not compress), checkpointed."""
    sink = DuckDBSink.open(db, "highlevel", "duckdb:///w.duckdb")
    try:
        first = _part(_updates(range(1)), {})
        assert sink.load([CONTACTS], {"contacts": first}) is not None
        sink.connection.execute(
            "INSERT INTO highlevel.contacts (location_id, id, _dlt_load_id) "
            "SELECT 'L', md5(range::VARCHAR), 'x' FROM range(1, ?)",
            [stored],
        )
        sink.checkpoint()
    finally:
        sink.close()


def _key(i: int) -> str:
    return hashlib.md5(str(i).encode(), usedforsecurity=False).hexdigest()


def _updates(ids: range) -> list[dict[str, Any]]:
    return [{"id": _key(i), "location_id": "L", "firstName": f"updated {i}"} for i in ids]


def test_a_round_deletes_what_it_replaces_in_one_scan_under_a_small_memory_limit(
    tmp_path: Path,
) -> None:
    """A round's rows replace the stored rows with their keys: the delete scans the table's
    keys, once per table and round (once per chunk made each round slower as the table grew),
    and DuckDB, which keeps what a scan reads up to its memory limit, keeps at most
    ``SCAN_MEMORY_MB`` of it (at 1,000,000 contacts the keys are ~24 MB: the run's peak grew
    with the table)."""
    db = tmp_path / "w.duckdb"
    _large_contacts(db, 1_500_000)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute(
            "SELECT sum(estimated_size) FROM duckdb_tables() WHERE table_name = 'contacts'"
        ).fetchall()
    shaper = shaper_for(CONTACTS, {})
    chunks = [range(0, 2_000), range(700_000, 702_000), range(1_498_000, 1_500_000)]
    shaped = [item for ids in chunks for item in items(CONTACTS, None, shaper, _updates(ids))]
    sink = DuckDBSink.open(db, "highlevel", "duckdb:///w.duckdb")
    recording = _Recording(sink.connection)
    sink.connection = recording
    try:
        part = Part(items=shaped, bookmarks={"L": {"cursor": "u"}}, rows=6_000)
        loaded = sink.load([CONTACTS], {"contacts": part})
        assert loaded is not None and loaded[1] == 6_000
    finally:
        sink.close()
    assert recording.statements.count("DELETE") == 1
    assert stored[0][0] > 1_000_000  # the table is not small
    assert recording.cached_after_delete[0] <= SCAN_MEMORY_MB * 10**6
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute(
            "SELECT count(*), count(DISTINCT id), count(first_name) FROM highlevel.contacts"
        ).fetchall()
        some = con.execute(
            "SELECT id, first_name FROM highlevel.contacts WHERE id IN (?, ?, ?) ORDER BY id",
            [_key(700_001), _key(1_499_999), _key(3_000)],
        ).fetchall()
    assert found == [(1_500_000, 1_500_000, 6_000)]
    assert sorted(some) == sorted(
        [
            (_key(3_000), None),
            (_key(700_001), "updated 700001"),
            (_key(1_499_999), "updated 1499999"),
        ]
    )


def test_a_delete_that_runs_out_of_the_small_limit_is_loaded_again_at_the_full_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where ``SCAN_MEMORY_MB`` is too little for DuckDB, the round is rolled back and loaded
    again at the full limit, as is the rest of the run: nothing fails, nothing is lost."""
    db = tmp_path / "w.duckdb"
    _large_contacts(db, 200_000)
    monkeypatch.setattr("ghlsync.extract.duckdb_sink.SCAN_MEMORY_MB", 1)
    shaper = shaper_for(CONTACTS, {})
    sink = DuckDBSink.open(db, "highlevel", "duckdb:///w.duckdb")
    try:
        for n, ids in enumerate([range(0, 3_000), range(100_000, 103_000)]):
            part = Part(
                items=items(CONTACTS, None, shaper, _updates(ids)),
                bookmarks={"L": {"cursor": str(n)}},
                rows=3_000,
            )
            loaded = sink.load([CONTACTS], {"contacts": part})
            assert loaded is not None and loaded[1] == 3_000
            assert not sink.lean  # 1 MB was too little
            assert _limit(sink.connection) == _limit(duckdb.connect(), sink.memory_mb)
    finally:
        sink.close()
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute(
            "SELECT count(*), count(DISTINCT id), count(first_name) FROM highlevel.contacts"
        ).fetchall()
    assert found == [(200_000, 200_000, 6_000)]
    assert read_state(db)["contacts"]["bookmarks"] == {"L": {"cursor": "1"}}


def _limit(con: Any, mb: int | None = None) -> str:
    """DuckDB's ``memory_limit`` as it shows it (after setting it to ``mb`` MB, if given)."""
    if mb is not None:
        con.execute(f"SET memory_limit = '{mb}MB'")
    return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
