"""One run per pipeline at a time: a file lock in the pipelines directory, and on PostgreSQL an
advisory lock on the dataset.

Two runs on one dlt pipeline (one destination and dataset) at once used to trip over each
other's load packages (``LoadPackageNotFound``, a missing ``schema.json``) and, with
``--full-refresh``, lose rows (issue 11). Now a run takes:

- ``<pipelines dir>/<pipeline name>.lock``, an exclusive ``flock`` held for the whole run, whose
  content says who holds it (pid, host, since when). The kernel drops it when the process ends,
  ``kill -9`` included: a lock file left behind is never stale.
- for a PostgreSQL destination, a session advisory lock keyed on the dataset, so runs from
  other pipelines directories or machines are kept out too. The holding connection's
  ``application_name`` says who holds it; PostgreSQL drops the lock with the connection.

A second run does not wait: it raises ``PipelineLocked`` naming the holder, and
``ghlsync extract`` exits 4.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghlsync.extract.failures import PipelineLocked

__all__ = ["Holder", "PipelineLocked", "hold", "pipeline_lock", "postgres_lock"]

#: the first key of ghlsync's advisory locks ("ghls"); the second is the dataset's hash
ADVISORY_CLASS = 0x67686C73


@dataclass(frozen=True)
class Holder:
    """Who holds a lock."""

    pid: int
    host: str
    since: str

    @classmethod
    def me(cls) -> Holder:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return cls(os.getpid(), socket.gethostname(), now.isoformat().replace("+00:00", "Z"))

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.since}"


def _locked(what: str, holder: str) -> PipelineLocked:
    return PipelineLocked(
        f"{what} is in use by another run ({holder}); this run did not start",
        hint="wait for that run to finish and rerun (a crashed run's lock is released with "
        "its process)",
    )


def _read_holder(fd: int) -> str:
    """The holder written in the lock file (it may be mid-write: try a few times)."""
    for _ in range(20):
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
        with contextlib.suppress(ValueError, TypeError, KeyError):
            data = json.loads(text)
            return Holder(int(data["pid"]), str(data["host"]), str(data["since"])).describe()
        time.sleep(0.05)
    return "holder unknown"


@contextlib.contextmanager
def pipeline_lock(pipelines_dir: Path, pipeline_name: str) -> Iterator[Holder]:
    """Hold ``<pipelines_dir>/<pipeline_name>.lock`` exclusively, or raise ``PipelineLocked``."""
    pipelines_dir.mkdir(parents=True, exist_ok=True)
    path = pipelines_dir / f"{pipeline_name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _locked(f"pipeline {pipeline_name}", _read_holder(fd)) from None
        me = Holder.me()
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": me.pid, "host": me.host, "since": me.since}).encode(), 0)
        try:
            yield me
        finally:
            os.ftruncate(fd, 0)  # released: nobody holds it
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def advisory_key(dataset: str) -> int:
    """The second key of the dataset's advisory lock (a signed 32-bit int)."""
    return int.from_bytes(hashlib.sha256(dataset.encode()).digest()[:4], "big", signed=True)


@contextlib.contextmanager
def postgres_lock(dsn: str, dataset: str, holder: Holder) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock on ``dataset`` for as long as the block runs.

    ``dsn`` holds the password, if any: it is never shown (errors name the dataset only).
    """
    psycopg2: Any = importlib.import_module("psycopg2")  # dlt's driver (ghlsync[postgres])

    name = f"ghlsync {holder.pid}@{holder.host} {holder.since}"
    if len(name) > 63:  # PostgreSQL cuts application_name at 63 bytes: keep the time whole
        name = f"ghlsync {holder.pid}@{holder.host[: 63 - len(name)]} {holder.since}"
    connection: Any = None
    with contextlib.suppress(psycopg2.Error):
        connection = psycopg2.connect(dsn, application_name=name, connect_timeout=10)
    if connection is None:
        yield  # unreachable: dlt's own connection fails next, with the usual message
        return
    try:
        connection.autocommit = True
        key = advisory_key(dataset)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (ADVISORY_CLASS, key))
            if not cursor.fetchone()[0]:
                cursor.execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.classid = %s::oid AND l.objid = %s::oid AND l.objsubid = 2 "
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = "
                    "current_database())",
                    (ADVISORY_CLASS, key & 0xFFFFFFFF),
                )
                row = cursor.fetchone()
                who = _describe_application(row[0] if row else "")
                raise _locked(f"dataset {dataset} on PostgreSQL", who)
        yield
    finally:
        connection.close()  # the session lock goes with it


def _describe_application(name: str) -> str:
    """``ghlsync 123@host 2026-...Z`` -> ``pid 123 on host since 2026-...Z``."""
    parts = name.split(" ")
    if len(parts) == 3 and parts[0] == "ghlsync" and "@" in parts[1]:
        pid, host = parts[1].split("@", 1)
        return f"pid {pid} on {host} since {parts[2]}"
    return f"PostgreSQL session {name!r}" if name else "holder unknown"


@contextlib.contextmanager
def hold(
    pipelines_dir: Path, pipeline_name: str, *, postgres_dsn: str | None, dataset: str
) -> Iterator[Holder]:
    """The pipeline's file lock, then (PostgreSQL) the dataset's advisory lock."""
    with pipeline_lock(pipelines_dir, pipeline_name) as holder:
        if postgres_dsn is None:
            yield holder
        else:
            with postgres_lock(postgres_dsn, dataset, holder):
                yield holder
