"""ghlsync.push: records into HighLevel contacts (reverse ETL), and write-back.

``run_push(PushConfig(...))`` streams a source (CSV, JSONL, Parquet, stdin, DuckDB, SQLite,
PostgreSQL) through the contact mapping into one or many locations, keeping a ledger so that an
unchanged row costs no API call. ``update_contact`` / ``update_contacts`` write back single
changes (a custom field, tags, a note). See docs/push.md.
"""

from __future__ import annotations

from ghlsync.mapping import ContactMappingSpec, load_mapping, parse_mapping
from ghlsync.push.config import MODES, PushConfig
from ghlsync.push.readers import open_source
from ghlsync.push.report import Conflict, LocationReport, PushResult
from ghlsync.push.run import push, run_push

__all__ = [
    "MODES",
    "Conflict",
    "ContactMappingSpec",
    "LocationReport",
    "PushConfig",
    "PushResult",
    "load_mapping",
    "open_source",
    "parse_mapping",
    "push",
    "run_push",
]
