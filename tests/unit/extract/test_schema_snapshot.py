"""The schemas the extract declares are pinned: the Singer catalog (``ghlsync tap --discover``,
byte for byte, key order included), the column kinds handed to dlt and the Arrow columns and
types of each stream's first table. The snapshots were taken from ``main`` before the wire
shapes were declared once (issue 12 item 4); a change to them is a change users see.

Regenerate only on purpose: ``.venv/bin/python tests/unit/extract/test_schema_snapshot.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ghlsync.extract import singer
from ghlsync.extract.arrow import TableShaper, declared_kinds
from ghlsync.extract.streams import STREAMS

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
DISCOVER = SNAPSHOTS / "tap_discover.json"
COLUMNS = SNAPSHOTS / "stream_columns.json"


def discover_text() -> str:
    """What ``ghlsync tap --discover`` prints (the CLI dumps ``discover()`` with indent 2)."""
    return json.dumps(singer.discover(), indent=2) + "\n"


def stream_columns() -> dict[str, Any]:
    """Per stream: the declared kinds and the Arrow schema of a one-record table."""
    out: dict[str, Any] = {}
    for name, stream in STREAMS.items():
        kinds = declared_kinds(stream.json_schema)
        table = TableShaper(kinds, keys=stream.primary_key).table(
            [{"id": "r1", "location_id": "loc1"}]
        )
        out[name] = {
            "kinds": kinds,
            "arrow": [
                f"{f.name} {f.type}{'' if f.nullable else ' not null'}" for f in table.schema
            ],
        }
    return out


def columns_text() -> str:
    return json.dumps(stream_columns(), indent=1) + "\n"


def test_tap_discover_is_unchanged() -> None:
    assert discover_text() == DISCOVER.read_text()


def test_dlt_kinds_and_arrow_columns_are_unchanged() -> None:
    assert columns_text() == COLUMNS.read_text()


if __name__ == "__main__":
    SNAPSHOTS.mkdir(exist_ok=True)
    DISCOVER.write_text(discover_text())
    COLUMNS.write_text(columns_text())
