"""Rounds straight into a DuckDB file: each round's rows, bookmarks and load record in one
transaction, without dlt.

dlt's load of a round (extract, normalize to Parquet, load into a staging table, merge, state)
cost more than reading it and held ~200 MiB; into DuckDB, the Arrow tables the reader shaped
can be merged directly. The warehouse keeps the layout dlt gives it, so either can write it and
queries do not change:

- one table per stream (or custom object) in schema ``<dataset>``; the key columns and
  ``_dlt_load_id`` (the round's load id, last) are NOT NULL; JSON columns are typed ``JSON``;
  every table has ``_ghlsync_deleted`` (the tombstone flag, never set on a stored row);
- a column first seen is added (``ALTER TABLE ... ADD COLUMN``), typed as its Arrow column;
- a round merges on the stream's key: its rows replace the stored rows with the same key (the
  last of a key within the round wins) and its tombstones delete theirs;
- ``_dlt_loads`` gets one row per round (status 0), as dlt writes it.

The bookmarks live in ``<dataset>._ghlsync_state`` (one JSON row per stream, the resource state
dlt would keep: ``bookmarks`` per location, a custom-object stream's ``tables``), written in the
round's transaction: a killed run leaves the last committed round, its rows and its bookmarks,
never one without the other. A warehouse that dlt wrote first has its bookmarks copied over
once (``ghlsync.extract.run``).
"""

# ruff: noqa: S608 - every name in the SQL here is quoted (``quote``), every value bound

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ghlsync.extract.failures import DestinationError
from ghlsync.extract.streams import DELETED, LOCATION_ID, Stream

if TYPE_CHECKING:
    from ghlsync.extract.arrow import Columns
    from ghlsync.extract.rounds import Part
    from ghlsync.extract.routing import Item

__all__ = ["DUCKDB_CONFIG", "ROUND_ROWS", "STATE_TABLE", "DuckDBSink", "read_state"]

STATE_TABLE = "_ghlsync_state"
LOADS_TABLE = "_dlt_loads"
LOAD_ID = "_dlt_load_id"
#: the schema name dlt writes in ``_dlt_loads`` (the source's)
SCHEMA_NAME = "highlevel"
#: DuckDB's settings while loading (its defaults: 80% of RAM, a thread per core, a checkpoint
#: per 16 MB of log). A round's merge is small, so memory stays flat however large the location:
#: - a checkpoint holds what the log holds, so it comes every 4 MB (at 16 MB, a 24 MB limit
#:   failed a checkpoint with a FATAL error; at 4 MB, 24 MB held: 32 MB leaves room);
#: - one thread: the reader and HighLevel's answers need the other core (on 2 cores a second
#:   DuckDB thread made the run no faster, docs/benchmarks.md);
#: - no vacuum in the checkpoints: merging a table's row groups rewrote them at every one,
#:   the run's peak (+18 MiB) and a slower load; only a small run vacuums, at its end
#:   (``finish``)
CHECKPOINT_MB = 4
_CHECKPOINT_BYTES = CHECKPOINT_MB * 10**6  # DuckDB's MB
DUCKDB_CONFIG = {
    "checkpoint_threshold": f"{CHECKPOINT_MB}MB",
    "threads": "1",
    "preserve_insertion_order": "false",
    "max_vacuum_tasks": "0",
}
#: DuckDB's allocator (a jemalloc of its own, configured when its first database opens) with
#: one arena and freed pages handed back at once, unless the environment says otherwise: the
#: loader runs DuckDB on one thread, and its retained pages were ~7 MiB of the run's peak
ALLOCATOR_ENV = ("DUCKDB_JE_MALLOC_CONF", "narenas:1,dirty_decay_ms:0")
#: DuckDB's ``memory_limit`` (MB): a commit or a checkpoint holds a block or more per column of
#: a table, so the limit grows with the widest table (measured: 100 columns needed 24 MB,
#: 200 needed 48, 300 needed 64; the 32 MB floor fits contacts' ~45 twice over)
MEMORY_FLOOR_MB = 32
MEMORY_PER_COLUMN_MB = 0.5
#: vacuum tasks in ``checkpoint`` (DuckDB's default): without them the row groups of many
#: small runs would never be merged, nor deleted rows reclaimed
VACUUM_TASKS = 100
#: DuckDB's ``memory_limit`` (MB) while a round's deletes scan the tables' keys, before the
#: round inserts anything: DuckDB keeps the blocks a scan reads up to its limit (the keys of
#: 1,000,000 contacts are ~24 MB). 8 MB failed: the committed rows not yet checkpointed stay in
#: memory too. Where 16 is not enough, the round is loaded again, and the run goes on, at the
#: full limit
SCAN_MEMORY_MB = 16
#: rows per round into DuckDB (dlt's rounds are larger: its cost per package is higher); each
#: round's Arrow columns and DuckDB's merge of them stay a few MiB
ROUND_ROWS = 5_000
_STAGED = "_ghlsync_round"
#: a round's keys of one table (``_round_keys``)
_KEYS = "_ghlsync_keys"
#: the staged rows' order, where two share a key (the last one wins)
_SEQ = "_ghlsync_seq"

#: DuckDB's type for a column of each of the shaper's kinds
_SQL_TYPES = {
    "text": "VARCHAR",
    "json": "JSON",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
}
#: the shaper's kind for a stored column's DuckDB type (anything else loads as text)
_KINDS = {
    "VARCHAR": "text",
    "JSON": "json",
    "BIGINT": "bigint",
    "INTEGER": "bigint",
    "DOUBLE": "double",
    "BOOLEAN": "bool",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBSink:
    """One run's connection to a DuckDB warehouse; ``load`` commits a round."""

    def __init__(self, connection: Any, dataset: str, url: str, path: Path | None = None) -> None:
        self.connection = connection
        #: the file (None: in memory), and its log beside it
        self.path = path
        self.dataset = dataset
        self.url = url
        #: column name -> DuckDB type, per table of the dataset (read once, kept up to date)
        self.tables: dict[str, dict[str, str]] = {}
        #: the stored resource states, per stream (what ``_ghlsync_state`` holds)
        self.resources: dict[str, dict[str, Any]] = {}
        self._last_load = 0.0
        #: DuckDB's ``memory_limit`` now (``_fit_memory``)
        self.memory_mb = 0
        #: the bytes of log this run's rounds wrote (a checkpoint's worth for one that
        #: checkpointed: DuckDB does at ``checkpoint_threshold``)
        self.logged = 0
        #: whether a round's deletes run under ``SCAN_MEMORY_MB`` (until one ran out of it)
        self.lean = True
        self.reload()

    @classmethod
    def open(cls, path: Path, dataset: str, url: str) -> DuckDBSink:
        """Connect (``DestinationError`` with a hint when DuckDB refuses the file)."""
        with _environment(*ALLOCATOR_ENV):  # read when duckdb is first imported
            import duckdb

        try:
            connection = duckdb.connect(str(path))
            for name, value in DUCKDB_CONFIG.items():
                connection.execute(f"SET {name} = '{value}'")
        except duckdb.Error as error:
            raise DestinationError(
                f"duckdb at {url}: connect failed: {_first_line(error)}",
                hint="is it a DuckDB file, and is no other program writing to it?",
            ) from None
        try:
            return cls(connection, dataset, url, path)
        except BaseException:
            connection.close()
            raise

    def close(self) -> None:
        self.connection.close()

    # what is stored

    def reload(self) -> None:
        """Read the dataset's tables, columns and stored states again (another writer, such as
        dlt loading what a killed run left, may have changed them)."""
        self.tables.clear()
        self.resources.clear()
        rows = self.connection.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
            [self.dataset],
        ).fetchall()
        for table, column, data_type in rows:
            self.tables.setdefault(str(table), {})[str(column)] = str(data_type)
        if STATE_TABLE in self.tables:
            for stream, state in self.connection.execute(
                f"SELECT stream, state FROM {self._name(STATE_TABLE)}"
            ).fetchall():
                self.resources[str(stream)] = json.loads(state)
        self._fit_memory()

    @property
    def has_state(self) -> bool:
        """Whether this warehouse keeps ghlsync's bookmarks (else: new, or written by dlt)."""
        return STATE_TABLE in self.tables

    @property
    def has_dlt_state(self) -> bool:
        """Whether dlt wrote this dataset (its state table holds the bookmarks then)."""
        return "_dlt_pipeline_state" in self.tables

    def stored(self) -> dict[str, Any]:
        """The dataset's tables as dlt's schema holds them: ``{"columns": {name: {"data_type":
        kind}}}`` (what the shapers keep column types by)."""
        return {
            table: {
                "columns": {
                    name: {"data_type": _KINDS.get(kind, "double" if "DECIMAL" in kind else "text")}
                    for name, kind in columns.items()
                }
            }
            for table, columns in self.tables.items()
            if not table.startswith(("_dlt_", "_ghlsync_"))
        }

    # writing

    def new_load_id(self) -> str:
        """A load id as dlt makes them (a Unix timestamp as text), each later than the last."""
        now = max(time.time(), self._last_load + 1e-6)
        self._last_load = now
        return f"{now:.6f}"

    def load(self, streams: Sequence[Stream], parts: Mapping[str, Part]) -> tuple[str, int] | None:
        """Commit a round: its items merged into their tables, its bookmarks, a ``_dlt_loads``
        row. Returns the load id and the rows written; None when the round holds nothing to
        write (no rows, no bookmark moved)."""
        by_name = {stream.name: stream for stream in streams}
        states = {name: self._state_after(name, part) for name, part in parts.items()}
        changed = {n: s for n, s in states.items() if s != self.resources.get(n)}
        if not changed and not any(item.rows for part in parts.values() for item in part.items):
            return None
        try:
            return self._commit(by_name, parts, changed)
        except _ScanOutOfMemory:  # rolled back: again, and from now on, at the full limit
            self.lean = False
            self._set_limit(self.memory_mb)
            return self._commit(by_name, parts, changed)

    def _commit(
        self, by_name: Mapping[str, Stream], parts: Mapping[str, Part], changed: Mapping[str, Any]
    ) -> tuple[str, int]:
        load_id = self.new_load_id()
        tables = {name: dict(columns) for name, columns in self.tables.items()}
        con = self.connection
        log = self._log_size()
        con.execute("BEGIN TRANSACTION")
        try:
            self._bookkeeping()
            rows = self._merge_round(by_name, parts, load_id)
            for name, state in changed.items():
                con.execute(
                    f"INSERT OR REPLACE INTO {self._name(STATE_TABLE)} VALUES (?, ?, ?)",
                    [name, json.dumps(state, sort_keys=True), load_id],
                ).fetchall()
            con.execute(
                f"INSERT INTO {self._name(LOADS_TABLE)} VALUES (?, ?, 0, now(), NULL)",
                [load_id, SCHEMA_NAME],
            ).fetchall()
            con.execute("COMMIT")
        except BaseException:
            self.tables = tables  # what DDL the rollback undoes
            _rollback(con)
            raise
        after = self._log_size()
        # a commit that checkpointed (the log written into the file) filled a checkpoint's worth
        self.logged += after - log if after > log else _CHECKPOINT_BYTES
        self._drop_cache()
        self.resources.update(changed)
        return load_id, rows

    def checkpoint(self, *, vacuum: bool = False) -> None:
        """Write what the log holds into the file now (done while the reader is waited for,
        and by ``finish``); with ``vacuum``, small row groups are merged and deleted rows
        reclaimed. The rounds' own checkpoints (every ``checkpoint_threshold`` of log) do not
        vacuum."""
        con = self.connection
        if vacuum:
            con.execute(f"SET max_vacuum_tasks = {VACUUM_TASKS}")
        try:
            con.execute("CHECKPOINT").fetchall()
        finally:
            if vacuum:
                con.execute("SET max_vacuum_tasks = 0")

    def finish(self) -> None:
        """The end of a run: ``checkpoint``, with vacuum for a run that wrote less than a
        checkpoint's worth of log (its few rows would otherwise stay a small row group of their
        own, one more every run). A larger run's row groups hold a checkpoint's worth each:
        merging them would rewrite its rows once more (+20 MiB at 100,000 contacts)."""
        self.checkpoint(vacuum=self.logged < _CHECKPOINT_BYTES)

    def write_state(self, resources: Mapping[str, Any]) -> None:
        """Store ``resources`` as they are (bookmarks copied from a dlt pipeline's state)."""
        con = self.connection
        con.execute("BEGIN TRANSACTION")
        try:
            self._bookkeeping()
            for name, state in resources.items():
                con.execute(
                    f"INSERT OR REPLACE INTO {self._name(STATE_TABLE)} VALUES (?, ?, ?)",
                    [name, json.dumps(state, sort_keys=True), "dlt"],
                ).fetchall()
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        self.resources.update({name: dict(state) for name, state in resources.items()})

    def sweep(self, targets: Mapping[str, Sequence[str]], own: Iterable[str]) -> dict[str, int]:
        """Delete the rows of ``targets`` (table -> locations a full re-read completed) that no
        load of this run (``own``) wrote: the records deleted upstream. Nothing else can have
        written the file meanwhile: this run held it open."""
        own = sorted(set(own))
        deleted: dict[str, int] = {}
        if not own:
            return deleted
        con = self.connection
        con.execute("BEGIN TRANSACTION")
        try:
            for table, locations in targets.items():
                if table not in self.tables or not locations:
                    continue
                marks = ", ".join("?" for _ in locations)
                loads = ", ".join("?" for _ in own)
                found = con.execute(
                    f"DELETE FROM {self._name(table)} WHERE {quote(LOCATION_ID)} IN ({marks}) "
                    f"AND {quote(LOAD_ID)} NOT IN ({loads})",
                    [*locations, *own],
                ).fetchall()
                if found and found[0][0]:
                    deleted[table] = int(found[0][0])
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        return deleted

    def _state_after(self, name: str, part: Part) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(json.dumps(self.resources.get(name) or {}))
        state.setdefault("bookmarks", {}).update(part.bookmarks)
        if part.tables is not None:
            state["tables"] = list(part.tables)
        return state

    def _name(self, table: str) -> str:
        return f"{quote(self.dataset)}.{quote(table)}"

    def _bookkeeping(self) -> None:
        """The dataset's schema, the state table and ``_dlt_loads``, where missing."""
        if STATE_TABLE in self.tables and LOADS_TABLE in self.tables:
            return
        con = self.connection
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.dataset)}")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {self._name(STATE_TABLE)} (stream VARCHAR PRIMARY KEY,"
            " state JSON NOT NULL, load_id VARCHAR NOT NULL)"
        )
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {self._name(LOADS_TABLE)} (load_id VARCHAR NOT NULL,"
            " schema_name VARCHAR, status BIGINT NOT NULL,"
            " inserted_at TIMESTAMP WITH TIME ZONE NOT NULL, schema_version_hash VARCHAR)"
        )
        self.tables.setdefault(STATE_TABLE, {"stream": "VARCHAR"})
        self.tables.setdefault(LOADS_TABLE, {"load_id": "VARCHAR"})

    def _columns(self, item: Item) -> list[tuple[str, str]]:
        """The table's columns for ``item``'s data, DuckDB-typed, bookkeeping columns added."""
        data: Columns = item.data
        out = [(name, _SQL_TYPES[data.kind(name)]) for name in data.column_names]
        names = {name for name, _ in out}
        if DELETED not in names:
            out.append((DELETED, "BOOLEAN"))
        out.append((LOAD_ID, "VARCHAR"))
        return out

    def _ensure_table(self, stream: Stream, item: Item) -> None:
        con = self.connection
        columns = self._columns(item)
        known = self.tables.get(item.table)
        if known is None:
            keys = set(stream.primary_key) | {LOCATION_ID, LOAD_ID}
            ordered = [c for c in columns if c[0] in stream.primary_key]
            ordered += [c for c in columns if c[0] not in stream.primary_key]
            body = ", ".join(
                f"{quote(name)} {kind}{' NOT NULL' if name in keys else ''}"
                for name, kind in ordered
            )
            con.execute(f"CREATE TABLE {self._name(item.table)} ({body})")
            self.tables[item.table] = dict(ordered)
            self._fit_memory()
            return
        added = [(name, kind) for name, kind in columns if name not in known]
        for name, kind in added:
            con.execute(f"ALTER TABLE {self._name(item.table)} ADD COLUMN {quote(name)} {kind}")
            known[name] = kind
        if added:
            self._fit_memory()

    def _log_size(self) -> int:
        """The bytes in DuckDB's write-ahead log (``<file>.wal``; 0 when there is none)."""
        if self.path is None:
            return 0
        try:
            return Path(f"{self.path}.wal").stat().st_size
        except FileNotFoundError:
            return 0

    def _drop_cache(self) -> None:
        """Have DuckDB drop the table blocks it keeps cached (a lower ``memory_limit`` for a
        moment evicts them): it keeps every block it reads or writes up to the limit, which
        grew the run's memory with the table (15 MB at 100,000 contacts); what the next round
        scans comes back from the system's file cache."""
        import duckdb

        with contextlib.suppress(duckdb.Error):  # more than that is pinned: nothing is lost
            self._set_limit(1)
        self._set_limit(self.memory_mb)

    def _fit_memory(self) -> None:
        """DuckDB's memory limit for the widest table (``MEMORY_PER_COLUMN_MB``)."""
        widest = max((len(columns) for columns in self.tables.values()), default=0)
        limit = max(MEMORY_FLOOR_MB, math.ceil(widest * MEMORY_PER_COLUMN_MB))
        if limit != self.memory_mb:
            self._set_limit(limit)
            self.memory_mb = limit

    def _set_limit(self, mb: int) -> None:
        self.connection.execute(f"SET memory_limit = '{mb}MB'")

    def _merge_round(
        self, streams: Mapping[str, Stream], parts: Mapping[str, Part], load_id: str
    ) -> int:
        """Merge a round's items on their streams' keys; the rows inserted.

        First, per table, the stored rows the round replaces are deleted in one statement, then
        the items' rows are inserted. Each delete scans its table's keys: a scan per item made
        every round slower as the table grew, and the blocks it reads are kept by DuckDB up to
        its memory limit. So the deletes run first, under ``SCAN_MEMORY_MB``, and the inserts
        and the commit at the full limit. Each item is inserted on its own: staging a round's
        items together (``UNION ALL BY NAME`` of their Arrow scans) ran out of the 32 MB limit
        with five 1,000-row items. Where a key may repeat among a table's items, the items are
        merged one by one (``_merge``): the last of a key must win."""
        con = self.connection
        groups: list[tuple[Stream, list[Item], Columns | None]] = []
        for name, part in parts.items():
            by_table: dict[str, list[Item]] = {}
            for item in part.items:
                if item.data.num_rows:
                    by_table.setdefault(item.table, []).append(item)
            for group in by_table.values():
                groups.append((streams[name], group, _round_keys(streams[name], group)))
        deletes: list[tuple[Stream, str, Columns]] = []
        for stream, group, keys in groups:
            if keys is None:
                continue
            for item in group:  # new tables and columns first, at the full limit
                self._ensure_table(stream, item)
            table = self._name(group[0].table)
            if _has_rows(con, table):
                deletes.append((stream, table, keys))
        if deletes:
            self._delete_all(deletes)
        rows = 0
        for stream, group, keys in groups:
            if keys is None:
                rows += sum(self._merge(stream, item, load_id) for item in group)
                continue
            table = self._name(group[0].table)
            for item in group:
                with _registered(con, _STAGED, item.data):
                    rows += self._insert(table, item, _STAGED, load_id)
        return rows

    def _delete_all(self, deletes: Sequence[tuple[Stream, str, Columns]]) -> None:
        """Delete the stored rows that share a key with each table's ``Columns`` of keys, under
        ``SCAN_MEMORY_MB`` while ``lean`` (``_ScanOutOfMemory`` where that is too little)."""
        import duckdb

        con = self.connection
        try:
            if self.lean:
                self._set_limit(SCAN_MEMORY_MB)
            for stream, table, keys in deletes:
                with _registered(con, _KEYS, keys):
                    con.execute(_delete_sql(table, stream, _KEYS)).fetchall()
        except duckdb.OutOfMemoryException as error:
            if self.lean:
                raise _ScanOutOfMemory from error
            raise
        if self.lean:
            # back up (a lower limit for a moment, to drop what the scans read, could abort
            # the transaction: DuckDB could not free the deletes' own memory)
            self._set_limit(self.memory_mb)

    def _insert(self, table: str, item: Item, staged: str, load_id: str) -> int:
        """Insert ``staged`` (``item``'s rows, registered) but its tombstones; the rows
        inserted."""
        data = item.data
        columns = [quote(str(n)) for n in data.column_names]
        alive = f" WHERE {quote(DELETED)} IS NOT TRUE" if DELETED in data.column_names else ""
        inserted = self.connection.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, {quote(LOAD_ID)}) "
            f"SELECT {', '.join(columns)}, ? FROM {staged}{alive}",
            [load_id],
        ).fetchall()
        return int(inserted[0][0]) if inserted else 0

    def _merge(self, stream: Stream, item: Item, load_id: str) -> int:
        """Merge one item on the stream's key, the last of a key within it winning; the rows
        inserted (for items whose keys may repeat among a round's: merged in order)."""
        data = item.data
        if not data.num_rows:
            return 0
        con = self.connection
        self._ensure_table(stream, item)
        table = self._name(item.table)
        keys = [quote(k) for k in stream.primary_key]
        staged = _STAGED
        if data.repeated_keys:
            with _registered(con, _STAGED, data):
                repeated = _repeats(con, keys)
            if repeated:  # the last of a key wins
                data = data.with_column(_SEQ, "bigint", list(range(data.num_rows)))
                staged = (
                    f"(SELECT * EXCLUDE ({_SEQ}) FROM {_STAGED} QUALIFY row_number() OVER"
                    f" (PARTITION BY {', '.join(keys)} ORDER BY {_SEQ} DESC) = 1)"
                )
        with _registered(con, _STAGED, data):
            if _has_rows(con, table):
                con.execute(_delete_sql(table, stream, staged)).fetchall()
            return self._insert(table, item, staged, load_id)


class _ScanOutOfMemory(Exception):
    """A round's deletes needed more than ``SCAN_MEMORY_MB``."""


@contextlib.contextmanager
def _registered(con: Any, name: str, data: Columns) -> Iterator[None]:
    """``data`` scannable as ``name`` meanwhile."""
    import duckdb

    con.register(name, data)
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):  # the transaction may have been aborted
            con.unregister(name)


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """``name`` set to ``value`` meanwhile, unless it is set already."""
    if name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)


def _repeats(con: Any, keys: Sequence[str]) -> bool:
    """Whether two staged rows share a key (asked only when the shaper could not rule it out)."""
    found = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {_STAGED} GROUP BY {', '.join(keys)}"
        " HAVING count(*) > 1)"
    ).fetchall()
    return bool(found[0][0])


def _delete_sql(table: str, stream: Stream, staged: str) -> str:
    """The stored rows of ``table`` that share a key with ``staged``, deleted."""
    match = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in stream.primary_key)
    return f"DELETE FROM {table} AS t USING {staged} AS s WHERE {match}"


def _round_keys(stream: Stream, items: Sequence[Item]) -> Columns | None:
    """The keys of ``items`` (one table's share of a round): the item itself where it is
    one, else one table of the key columns; None where a key may repeat among them (or is
    of another kind than text or bigint)."""
    from ghlsync.extract.arrow import Columns

    names = stream.primary_key
    first: Columns = items[0].data
    if len(items) == 1:
        return None if first.repeated_keys else first
    if not set(names) <= set(first.column_names):
        return None
    kinds = {name: first.kind(name) for name in names}
    if any(kind not in ("text", "bigint") for kind in kinds.values()):
        return None
    values: dict[str, list[Any]] = {name: [] for name in names}
    for item in items:
        data: Columns = item.data
        if data.repeated_keys or any(
            name not in data.columns or data.kind(name) != kinds[name] for name in names
        ):
            return None
        for name in names:
            values[name].extend(data.to_pylist(name))
    rows = len(values[names[0]])
    if len(set(zip(*values.values(), strict=True))) < rows:
        return None  # a key in two items: the later one must win (item by item)
    columns = {name: (kinds[name], values[name]) for name in names}
    return Columns.from_lists(columns, names, repeated_keys=False)


def _has_rows(con: Any, table: str) -> bool:
    return bool(con.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall())


def _rollback(con: Any) -> None:
    import duckdb

    with contextlib.suppress(duckdb.Error):  # no transaction left (DuckDB ended it)
        con.execute("ROLLBACK")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def read_state(path: Path, dataset: str = "highlevel") -> dict[str, dict[str, Any]]:
    """The resource states (``bookmarks`` per location, ``tables``) per stream that a DuckDB
    warehouse keeps, read without writing; empty when it keeps none."""
    import duckdb

    from ghlsync.extract.naming import snake_case

    dataset = snake_case(dataset)
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [dataset, STATE_TABLE],
        ).fetchall()
        if not found:
            return {}
        rows = con.execute(
            f"SELECT stream, state FROM {quote(dataset)}.{quote(STATE_TABLE)}"
        ).fetchall()
    return {str(stream): json.loads(state) for stream, state in rows}
