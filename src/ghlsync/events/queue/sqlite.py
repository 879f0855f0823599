"""``SQLiteQueue``: the default durable queue, one SQLite file in WAL mode.

One writer thread owns the writing connection, with ``synchronous=NORMAL``: it drains every
waiting ``enqueue`` into ONE transaction whose commit only appends to the WAL (rows encoded
before they reach the thread, so it holds the GIL briefly). A sync thread fdatasyncs the WAL for every commit made since its last one (group commit) and only
then are those calls answered, so each acknowledged event is on disk when ``enqueue`` returns
(as with ``synchronous=FULL``), a thousand concurrent requests cost one fsync, and the next
commit goes on while the disk works (pipelined). Nothing touches the database on the event
loop's thread. Reads (claims, the debugger, depth) run on a second connection in a reader
thread, beside the writer (WAL), and checkpoints (``synchronous=FULL``: WAL synced before,
database after) on a third, every ``checkpoint_every_s``, never inside an acknowledgement.

A single process delivers from a SQLite queue (the worker tracks identities in flight in
memory); several processes need the Redis backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from ghlsync.events.queue import Group, NewEvent, QueuedEvent

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    location_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    identity TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    last_status INTEGER,
    delivered_at REAL,
    result TEXT,
    UNIQUE (source, message_id)
);
CREATE INDEX IF NOT EXISTS events_state ON events (state, seq);
CREATE INDEX IF NOT EXISTS events_identity ON events (location_id, identity, state);
CREATE TABLE IF NOT EXISTS profiles (
    location_id TEXT NOT NULL,
    identity TEXT NOT NULL,
    profile TEXT NOT NULL,
    PRIMARY KEY (location_id, identity)
);
"""

_COLUMNS = (
    "seq, source, location_id, message_id, identity, kind, name, body, received_at, state, "
    "attempts, next_at, last_error, last_status, delivered_at, result"
)
_STOP = object()
_INSERT = (
    "INSERT OR IGNORE INTO events (source, location_id, message_id, identity, kind, name, body, "
    "received_at, state, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_encode = msgspec.json.Encoder().encode


def _dumps(body: dict[str, Any]) -> str:
    """A stored body: compact JSON (msgspec, about 15x faster than ``json.dumps``)."""
    try:
        return _encode(body).decode()
    except (TypeError, OverflowError):  # an int past 64 bits: json can
        return json.dumps(body, separators=(",", ":"))


def _store_profile(
    db: sqlite3.Connection, location_id: str, identity: str, profile: dict[str, Any]
) -> None:
    db.execute(
        "INSERT INTO profiles VALUES (?, ?, ?) ON CONFLICT (location_id, identity) "
        "DO UPDATE SET profile = excluded.profile",
        (location_id, identity, json.dumps(profile)),
    )


def _connect(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("PRAGMA busy_timeout=10000")
    return db


def _resolve_soon(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """From a thread: settle each future on its own loop (one wake-up per loop)."""
    loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Any]]] = {}
    for outcome in outcomes:
        loops.setdefault(outcome[0].get_loop(), []).append(outcome)
    for loop, batch in loops.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
            loop.call_soon_threadsafe(_resolve, batch)


def _resolve(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


def _settle(
    future: Future[T], fn: Callable[[sqlite3.Connection], T], db: sqlite3.Connection
) -> None:
    try:
        future.set_result(fn(db))
    except BaseException as exc:
        future.set_exception(exc)


def _row(row: tuple[Any, ...]) -> QueuedEvent:
    return QueuedEvent(
        seq=row[0],
        source=row[1],
        location_id=row[2],
        message_id=row[3],
        identity=row[4],
        kind=row[5],
        name=row[6],
        body=json.loads(row[7]),
        received_at=row[8],
        state=row[9],
        attempts=row[10],
        next_at=row[11],
        last_error=row[12],
        last_status=row[13],
        delivered_at=row[14],
        result=json.loads(row[15]) if row[15] else {},
    )


class SQLiteQueue:
    """The ``EventQueue`` on one SQLite file (``$GHLSYNC_HOME/events.sqlite3`` by default).

    Example::

        q = SQLiteQueue(Path("events.sqlite3"))
        await q.enqueue([NewEvent(...)])     # durable when this returns
        await q.close()
    """

    def __init__(self, path: Path, *, checkpoint_every_s: float = 0.5) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._reads: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._db = _connect(path, synchronous="NORMAL")  # the sync thread fsyncs the WAL
        self._db.executescript(_SCHEMA)
        # checkpoints copy the WAL into the database and fsync it: run by the checkpointer
        # thread on its own connection, never inside the commit that acknowledges a request
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._reader_db = _connect(path)
        self._wal_fd: int | None = None
        self._closed = False
        self._stopping = threading.Event()
        self._checkpoint_every_s = checkpoint_every_s
        #: committed writes waiting for the next fsync, (future, result), and the event that
        #: wakes the sync thread
        self._unsynced: list[tuple[asyncio.Future[Any], Any]] = []
        self._unsynced_lock = threading.Lock()
        self._dirty = threading.Event()
        self._backfilled = threading.Event()
        self._threads = [
            threading.Thread(target=self._write_loop, name="ghlsync-queue", daemon=True),
            threading.Thread(target=self._sync_loop, name="ghlsync-queue-sync", daemon=True),
            threading.Thread(target=self._read_loop, name="ghlsync-queue-read", daemon=True),
            threading.Thread(target=self._checkpoints, name="ghlsync-queue-wal", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- the writer thread: commits, no fsync ----------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                break
            batch = [job]
            while len(batch) < 512:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    self._jobs.put(_STOP)
                    break
                batch.append(more)
            inserts = [j for j in batch if j[0] == "insert"]
            if inserts:
                self._insert(inserts)
            if self._backfilled.is_set():
                self._backfilled.clear()
                self._finish_checkpoint()
            for _, fn, future in (j for j in batch if j[0] == "call"):
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    result = fn(self._db)
                    self._db.execute("COMMIT")
                except BaseException as exc:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    _resolve_soon([(future, None, exc)])
                    continue
                self._after_fsync([(future, result)])
        self._db.close()

    def _insert(self, jobs: list[tuple[str, Any, asyncio.Future[int]]]) -> None:
        """Every waiting ``enqueue`` in one transaction; the commit does not fsync."""
        counts = []
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for _, rows, _ in jobs:
                before = self._db.total_changes
                self._db.executemany(_INSERT, rows)
                counts.append(self._db.total_changes - before)
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            _resolve_soon([(future, None, exc) for _, _, future in jobs])
            return
        self._after_fsync(
            [(future, count) for (_, _, future), count in zip(jobs, counts, strict=True)]
        )

    def _finish_checkpoint(self) -> None:
        """Copy the few frames committed since the checkpointer's last pass, here between two
        transactions, so the next one restarts the WAL from its top. (SQLite restarts a WAL
        only when a write begins with every frame copied: under a steady stream of commits the
        checkpointer alone never sees that, and the WAL would grow without bound.)"""
        with contextlib.suppress(sqlite3.Error):  # busy: the next pass catches up
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _after_fsync(self, done: list[tuple[asyncio.Future[Any], Any]]) -> None:
        """Answer ``done`` once the WAL is fsynced past the commit just made."""
        with self._unsynced_lock:
            self._unsynced.extend(done)
        self._dirty.set()

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one transaction on the writer thread; return once it is on disk."""
        if self._closed:
            raise RuntimeError("the queue is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put(("call", fn, future))
        return await future

    # -- the sync, reader and checkpointer threads ---------------------------------------------

    def _wal(self) -> int:
        if self._wal_fd is None:
            # the WAL exists once the first commit is made; SQLite keeps the same file (it
            # restarts it from the top after a checkpoint) while this queue's connection is open
            self._wal_fd = os.open(f"{self.path}-wal", os.O_RDONLY)
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)  # the WAL's directory entry, once
            finally:
                os.close(directory)
        return self._wal_fd

    def _sync_loop(self) -> None:
        """fdatasync the WAL for every commit made since the last one (as SQLite syncs its
        WAL on Linux), then answer them; the next commits go on meanwhile (pipelined)."""
        while True:
            self._dirty.wait()
            self._dirty.clear()
            with self._unsynced_lock:
                waiting, self._unsynced = self._unsynced, []
            if not waiting:
                if self._stopping.is_set():
                    break
                continue
            error: OSError | None = None
            try:
                os.fdatasync(self._wal())
            except OSError as exc:
                error = exc
            _resolve_soon([(future, result, error) for future, result in waiting])
        if self._wal_fd is not None:
            os.close(self._wal_fd)

    def _read_loop(self) -> None:
        """Reads (claims, the debugger, depth) on their own connection: WAL lets them run
        beside the writer, so a claim scanning the pending rows never delays an acknowledgement."""
        while True:
            job = self._reads.get()
            if job is _STOP:
                break
            fn, future = job
            _settle(future, fn, self._reader_db)
        self._reader_db.close()

    def _checkpoints(self) -> None:
        """Copy the WAL into the database every ``checkpoint_every_s`` (the bulk of the work,
        beside the writer), then ask the writer thread to finish the pass (see
        ``_finish_checkpoint``)."""
        db = _connect(self.path)
        try:
            while not self._stopping.wait(self._checkpoint_every_s):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy: the next round catches up
                self._backfilled.set()
        finally:
            db.close()

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run the read-only ``fn`` on the reader thread: it sees every committed write."""
        if self._closed:
            raise RuntimeError("the queue is closed")
        future: Future[T] = Future()
        self._reads.put((fn, future))
        return await asyncio.wrap_future(future)

    # -- EventQueue ------------------------------------------------------------------------------

    async def enqueue(self, events: list[NewEvent]) -> int:
        if self._closed:
            raise RuntimeError("the queue is closed")
        rows = [
            (
                e.source,
                e.location_id,
                e.message_id,
                e.identity,
                e.kind,
                e.name,
                _dumps(e.body),
                e.received_at,
                "pending" if e.dropped_reason is None else "dropped",
                e.dropped_reason,
            )
            for e in events
        ]
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._jobs.put(("insert", rows, future))
        return await future

    async def claim(
        self, now: float, busy: set[tuple[str, str]], groups: int, per_group: int
    ) -> list[Group]:
        def read(db: sqlite3.Connection) -> list[Group]:
            waiting = {
                (r[0], r[1])
                for r in db.execute(
                    "SELECT DISTINCT location_id, identity FROM events "
                    "WHERE state = 'pending' AND next_at > ?",
                    (now,),
                )
            }
            found: dict[tuple[str, str], Group] = {}
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE state = 'pending' ORDER BY seq LIMIT 5000"  # noqa: S608 - constant columns
            )
            for row in rows:
                key = (row[2], row[4])
                if key in busy or key in waiting:
                    continue
                group = found.get(key)
                if group is None:
                    if len(found) >= groups:
                        continue
                    group = found[key] = Group(row[2], row[4], [])
                if len(group.events) < per_group:
                    group.events.append(_row(row))  # bodies decoded only for claimed rows
            return list(found.values())

        return await self._read(read)

    async def complete(
        self,
        group: Group,
        result: dict[str, Any],
        status: int | None,
        profile: dict[str, Any] | None = None,
    ) -> None:
        payload = json.dumps(result, separators=(",", ":"), default=str)
        now = time.time()

        def write(db: sqlite3.Connection) -> None:
            db.executemany(
                "UPDATE events SET state = 'delivered', delivered_at = ?, result = ?, "
                "last_status = ?, last_error = NULL, attempts = attempts + 1 WHERE seq = ?",
                [(now, payload, status, e.seq) for e in group.events],
            )
            if profile is not None:
                _store_profile(db, group.location_id, group.identity, profile)

        await self._write(write)

    async def fail(
        self,
        group: Group,
        error: str,
        status: int | None,
        retry_at: float | None,
        max_attempts: int,
        result: dict[str, Any] | None = None,
    ) -> list[QueuedEvent]:
        payload = json.dumps(result or {}, separators=(",", ":"), default=str)

        def write(db: sqlite3.Connection) -> list[QueuedEvent]:
            dead: list[QueuedEvent] = []
            for event in group.events:
                attempts = event.attempts + 1
                is_dead = retry_at is None or attempts >= max_attempts
                db.execute(
                    "UPDATE events SET attempts = ?, state = ?, next_at = ?, last_error = ?, "
                    "last_status = ?, result = ? WHERE seq = ?",
                    (
                        attempts,
                        "dead" if is_dead else "pending",
                        0 if is_dead else retry_at,
                        error,
                        status,
                        payload,
                        event.seq,
                    ),
                )
                event.attempts = attempts
                if is_dead:
                    event.state = "dead"
                    dead.append(event)
            return dead

        return await self._write(write)

    async def profile(self, location_id: str, identity: str) -> dict[str, Any]:
        def read(db: sqlite3.Connection) -> dict[str, Any]:
            row = db.execute(
                "SELECT profile FROM profiles WHERE location_id = ? AND identity = ?",
                (location_id, identity),
            ).fetchone()
            return dict(json.loads(row[0])) if row else {}

        return await self._read(read)

    async def remember(self, location_id: str, identity: str, profile: dict[str, Any]) -> None:
        def write(db: sqlite3.Connection) -> None:
            _store_profile(db, location_id, identity, profile)

        await self._write(write)

    async def depth(self) -> dict[str, tuple[int, float | None]]:
        def read(db: sqlite3.Connection) -> dict[str, tuple[int, float | None]]:
            rows = db.execute(
                "SELECT location_id, COUNT(*), MIN(received_at) FROM events "
                "WHERE state = 'pending' GROUP BY location_id"
            )
            return {r[0]: (r[1], r[2]) for r in rows}

        return await self._read(read)

    async def recent(
        self,
        limit: int = 100,
        *,
        after_seq: int = 0,
        location_id: str | None = None,
        source: str | None = None,
        state: str | None = None,
    ) -> list[QueuedEvent]:
        where, args = ["seq > ?"], [after_seq]
        for column, value in (("location_id", location_id), ("source", source), ("state", state)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)  # type: ignore[arg-type]

        def read(db: sqlite3.Connection) -> list[QueuedEvent]:
            sql = f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?"  # noqa: S608 - fixed column names, values bound
            return [_row(r) for r in db.execute(sql, (*args, limit))]

        return await self._read(read)

    async def replay(self, seqs: list[int] | None) -> int:
        def write(db: sqlite3.Connection) -> int:
            if seqs is None:
                cursor = db.execute(
                    "UPDATE events SET state = 'pending', attempts = 0, next_at = 0 "
                    "WHERE state = 'dead'"
                )
            else:
                cursor = db.executemany(
                    "UPDATE events SET state = 'pending', attempts = 0, next_at = 0 "
                    "WHERE state = 'dead' AND seq = ?",
                    [(s,) for s in seqs],
                )
            return cursor.rowcount

        return await self._write(write)

    async def prune(self, older_than: float) -> int:
        """Forget delivered and dropped events received before ``older_than`` (epoch s), a
        thousand at a time (each delete runs on the event loop's thread: kept short)."""

        def write(db: sqlite3.Connection) -> int:
            return db.execute(
                "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE state IN "
                "('delivered', 'dropped') AND received_at < ? LIMIT 1000)",
                (older_than,),
            ).rowcount

        removed = 0
        while True:
            count = await self._write(write)
            removed += count
            if count < 1000:
                return removed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._jobs.put(_STOP)  # after every write already queued
        await asyncio.to_thread(self._threads[0].join)
        self._stopping.set()
        self._dirty.set()
        self._reads.put(_STOP)
        for thread in self._threads[1:]:
            await asyncio.to_thread(thread.join)
