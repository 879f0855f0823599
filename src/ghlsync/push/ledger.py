"""The push ledger: what each sync sent to one location, in SQLite under ``GHLSYNC_HOME``.

One file per destination location (``$GHLSYNC_HOME/push/<location_id>.sqlite3``), one row per
(sync, source key): the contact id, the hash of the raw source row (with the mapping's
fingerprint), the hash and the values of what was last sent, the tags the sync wants and the
tags it put there itself (only those it may ever remove), whether it created the contact, and
work left half done by a crash (``pending_since`` for a create that may have happened, ``todo``
for tag changes not yet applied). Written in one transaction per batch, WAL mode.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ghlsync.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    sync TEXT NOT NULL,
    key TEXT NOT NULL,
    contact_id TEXT,
    raw_hash TEXT,
    out_hash TEXT,
    sent TEXT,
    tags_wanted TEXT,
    tags_owned TEXT,
    created INTEGER NOT NULL DEFAULT 0,
    seen_run INTEGER NOT NULL DEFAULT 0,
    pending_since REAL,
    todo TEXT,
    updated_at REAL,
    PRIMARY KEY (sync, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_contact ON entries (sync, contact_id);
CREATE TABLE IF NOT EXISTS syncs (
    sync TEXT PRIMARY KEY,
    run INTEGER NOT NULL DEFAULT 0,
    cursor TEXT,
    fingerprint TEXT,
    updated_at REAL
);
"""


@dataclass(slots=True)
class Entry:
    """One ledger row (``sent``: the last values sent, wire spelling)."""

    key: str
    contact_id: str | None = None
    raw_hash: str | None = None
    out_hash: str | None = None
    sent: dict[str, Any] = field(default_factory=dict)
    tags_wanted: frozenset[str] = frozenset()
    tags_owned: frozenset[str] = frozenset()
    created: bool = False
    seen_run: int = 0
    pending_since: float | None = None
    todo: dict[str, list[str]] | None = None


def ledger_path(home: Path, location_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in location_id)
    return home / "push" / f"{safe}.sqlite3"


class Ledger:
    """The ledger of one location; ``sync`` names the sync (many syncs may share a location)."""

    def __init__(self, path: Path, sync: str) -> None:
        self.path = path
        self.sync = sync
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO syncs (sync) VALUES (?)", (sync,))
        except sqlite3.Error as exc:
            raise ConfigError(
                f"cannot open the push ledger {path}: {exc}",
                hint="check that GHLSYNC_HOME is writable",
            ) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads --------------------------------------------------------------------------------
    def get_many(self, keys: Sequence[str]) -> dict[str, Entry]:
        """The entries of ``keys`` that exist (one query per 500 keys)."""
        found: dict[str, Entry] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, contact_id, raw_hash, out_hash, sent, tags_wanted, tags_owned,"  # noqa: S608
                f" created, seen_run, pending_since, todo FROM entries"
                f" WHERE sync = ? AND key IN ({marks})",
                (self.sync, *chunk),
            )
            for row in rows:
                found[row[0]] = _entry(row)
        return found

    def hashes_many(self, keys: Sequence[str]) -> dict[str, str]:
        """``{key: raw_hash}`` of the entries of ``keys`` that are settled: written (a contact
        id), nothing pending, no tag work left. Cheap: no JSON decoded (the unchanged path)."""
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, raw_hash FROM entries WHERE sync = ? AND key IN ({marks})"  # noqa: S608
                " AND contact_id IS NOT NULL AND pending_since IS NULL AND todo IS NULL"
                " AND raw_hash IS NOT NULL",
                (self.sync, *chunk),
            )
            found.update(rows)
        return found

    def entries(self) -> Iterator[Entry]:
        rows = self._db.execute(
            "SELECT key, contact_id, raw_hash, out_hash, sent, tags_wanted, tags_owned,"
            " created, seen_run, pending_since, todo FROM entries WHERE sync = ?",
            (self.sync,),
        )
        for row in rows:
            yield _entry(row)

    def count(self) -> int:
        row = self._db.execute("SELECT count(*) FROM entries WHERE sync = ?", (self.sync,))
        return int(row.fetchone()[0])

    def unseen(self, run: int) -> list[Entry]:
        """Entries with a contact that the run ``run`` did not see (gone from the source)."""
        rows = self._db.execute(
            "SELECT key, contact_id, raw_hash, out_hash, sent, tags_wanted, tags_owned,"
            " created, seen_run, pending_since, todo FROM entries"
            " WHERE sync = ? AND seen_run < ? AND contact_id IS NOT NULL",
            (self.sync, run),
        )
        return [_entry(row) for row in rows]

    def by_contact(self, contact_id: str) -> Entry | None:
        row = self._db.execute(
            "SELECT key, contact_id, raw_hash, out_hash, sent, tags_wanted, tags_owned,"
            " created, seen_run, pending_since, todo FROM entries"
            " WHERE sync = ? AND contact_id = ?",
            (self.sync, contact_id),
        ).fetchone()
        return _entry(row) if row else None

    # -- sync state ---------------------------------------------------------------------------
    def state(self) -> tuple[int, Any, str | None]:
        """``(last run number, saved cursor, mapping fingerprint)``."""
        run, cursor, fingerprint = self._db.execute(
            "SELECT run, cursor, fingerprint FROM syncs WHERE sync = ?", (self.sync,)
        ).fetchone()
        return int(run), (json.loads(cursor) if cursor else None), fingerprint

    def begin_run(self) -> int:
        self._db.execute(
            "UPDATE syncs SET run = run + 1, updated_at = ? WHERE sync = ?",
            (time.time(), self.sync),
        )
        return self.state()[0]

    def save_cursor(self, cursor: Any) -> None:
        self._db.execute(
            "UPDATE syncs SET cursor = ?, updated_at = ? WHERE sync = ?",
            (json.dumps(cursor, default=str), time.time(), self.sync),
        )

    def save_fingerprint(self, fingerprint: str) -> None:
        self._db.execute(
            "UPDATE syncs SET fingerprint = ? WHERE sync = ?", (fingerprint, self.sync)
        )

    # -- writes -------------------------------------------------------------------------------
    def put_many(self, entries: Iterable[Entry]) -> None:
        """Insert or replace ``entries`` in one transaction."""
        now = time.time()
        rows = [
            (
                self.sync,
                e.key,
                e.contact_id,
                e.raw_hash,
                e.out_hash,
                json.dumps(e.sent, sort_keys=True, default=str) if e.sent else None,
                _tags(e.tags_wanted),
                _tags(e.tags_owned),
                int(e.created),
                e.seen_run,
                e.pending_since,
                json.dumps(e.todo) if e.todo else None,
                now,
            )
            for e in entries
        ]
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO entries (sync, key, contact_id, raw_hash, out_hash, sent,"
                " tags_wanted, tags_owned, created, seen_run, pending_since, todo, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )

    def mark_seen(self, keys: Sequence[str], run: int) -> None:
        if not keys:
            return
        with self._transaction():
            self._db.executemany(
                "UPDATE entries SET seen_run = ? WHERE sync = ? AND key = ?",
                [(run, self.sync, key) for key in keys],
            )

    def delete(self, keys: Sequence[str]) -> None:
        with self._transaction():
            self._db.executemany(
                "DELETE FROM entries WHERE sync = ? AND key = ?", [(self.sync, k) for k in keys]
            )

    def _transaction(self) -> _Tx:
        return _Tx(self._db)


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if kind is not None else "COMMIT")


def _tags(tags: frozenset[str]) -> str | None:
    return json.dumps(sorted(tags)) if tags else None


def _entry(row: Sequence[Any]) -> Entry:
    return Entry(
        key=row[0],
        contact_id=row[1],
        raw_hash=row[2],
        out_hash=row[3],
        sent=json.loads(row[4]) if row[4] else {},
        tags_wanted=frozenset(json.loads(row[5])) if row[5] else frozenset(),
        tags_owned=frozenset(json.loads(row[6])) if row[6] else frozenset(),
        created=bool(row[7]),
        seen_run=int(row[8]),
        pending_since=row[9],
        todo=json.loads(row[10]) if row[10] else None,
    )
