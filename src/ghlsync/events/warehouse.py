"""Apply HighLevel webhook events to the extract's warehouse tables (DuckDB).

Written against the table layout docs/extract.md documents, not against ``ghlsync.extract``
(events never import extract): one table per stream (``contacts``, ``opportunities``, ``notes``,
``tasks``, ``calendar_events``), primary key ``(location_id, id)``, columns dlt's snake_case of
HighLevel's camelCase, top-level objects flattened one level (``dnd_settings__sms``), lists and
deeper objects as JSON, plus dlt's ``_dlt_load_id``/``_dlt_id``. Only columns the table already
has are written, so a webhook never changes the schema the extract owns; a ``*Delete`` event
deletes the row, as the extract's tombstones do. The next extract run overwrites what a webhook
wrote with the API's full record.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

#: event type prefix -> (table, the key holding the record when it is nested)
TABLES: dict[str, tuple[str, str | None]] = {
    "Contact": ("contacts", None),
    "Opportunity": ("opportunities", None),
    "Note": ("notes", None),
    "Task": ("tasks", None),
    "Appointment": ("calendar_events", "appointment"),
}
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """dlt's column name for a camelCase key: ``dateUpdated`` -> ``date_updated``."""
    return _CAMEL.sub(r"_\1", name).lower()


def route(event: dict[str, Any]) -> tuple[str, dict[str, Any], bool] | None:
    """(table, record, is_delete) for an event the warehouse mirrors, else None."""
    kind = str(event.get("type", ""))
    for prefix, (table, nested) in TABLES.items():
        if kind.startswith(prefix):
            record = event.get(nested) if nested else event
            if not isinstance(record, dict):
                return None
            record = dict(record)
            record.setdefault("locationId", event.get("locationId"))
            return table, record, kind.endswith("Delete")
    return None


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """Top-level objects one level deep (``a__b``), lists and deeper objects as JSON text."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        column = snake(key)
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                row[f"{column}__{snake(inner)}"] = (
                    json.dumps(inner_value) if isinstance(inner_value, dict | list) else inner_value
                )
        elif isinstance(value, list):
            row[column] = json.dumps(value)
        else:
            row[column] = value
    return row


def apply_event(database: Path, event: dict[str, Any], *, schema: str | None = None) -> str:
    """Apply one webhook event to ``database``; return what was done (for the debugger)."""
    import duckdb

    routed = route(event)
    if routed is None:
        return "not mirrored"
    table, record, is_delete = routed
    row = flatten(record)
    if not row.get("id") or not row.get("location_id"):
        return "no id"
    with duckdb.connect(str(database)) as db:
        found = db.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = ? "
            "AND table_schema NOT LIKE '%staging%' ORDER BY table_schema",
            [table],
        ).fetchall()
        schemas = [r[0] for r in found if schema is None or r[0] == schema]
        if not schemas:
            return f"no {table} table"
        target = f'"{schemas[0]}"."{table}"'
        key = [row["location_id"], row["id"]]
        if is_delete:
            db.execute(f"DELETE FROM {target} WHERE location_id = ? AND id = ?", key)  # noqa: S608
            return f"deleted from {table}"
        columns = {
            r[0]
            for r in db.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [schemas[0], table],
            ).fetchall()
        }
        values = {c: v for c, v in row.items() if c in columns and c not in ("id", "location_id")}
        exists = db.execute(
            f"SELECT 1 FROM {target} WHERE location_id = ? AND id = ?",  # noqa: S608
            key,
        ).fetchone()
        if exists:
            if values:
                assignments = ", ".join(f'"{c}" = ?' for c in values)
                db.execute(
                    f"UPDATE {target} SET {assignments} WHERE location_id = ? AND id = ?",  # noqa: S608
                    [*values.values(), *key],
                )
            return f"updated {table}"
        if "_dlt_load_id" in columns:
            values["_dlt_load_id"] = f"webhook-{time.time():.6f}"
        if "_dlt_id" in columns:
            values["_dlt_id"] = uuid.uuid4().hex[:14]
        names = ["location_id", "id", *values]
        marks = ", ".join("?" for _ in names)
        quoted = ", ".join(f'"{n}"' for n in names)
        db.execute(
            f"INSERT INTO {target} ({quoted}) VALUES ({marks})",  # noqa: S608
            [*key, *values.values()],
        )
        return f"inserted into {table}"
