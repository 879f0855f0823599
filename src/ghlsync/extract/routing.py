"""Records to loadable items, without dlt: Arrow columns per stream, or per custom object.

``items`` turns a stream's records into ``Item``s: each names its table and carries the data
(``arrow.Columns`` from the stream's ``TableShaper``, or the records themselves for dlt's own
normaliser) and which of its columns hold JSON. The dlt source (``source``) hands them to dlt
with hints; the DuckDB loader (``duckdb_sink``) inserts them itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ghlsync.extract.arrow import TableShaper, declared_kinds
from ghlsync.extract.streams import Stream

__all__ = ["Item", "Router", "items", "shaper_for"]


@dataclass
class Item:
    table: str
    #: ``arrow.Columns``, or the records (``arrow=False``)
    data: Any
    #: JSON columns dlt has not been told about yet (the shaper says each once)
    new_json: list[str] = field(default_factory=list)
    #: a ``table_of`` stream's table: dlt makes it a table variant with the stream's hints
    routed: bool = False

    @property
    def rows(self) -> int:
        return int(self.data.num_rows) if hasattr(self.data, "num_rows") else len(self.data)


def shaper_for(
    stream: Stream, stored: Mapping[str, Any], table_name: str | None = None
) -> TableShaper:
    """The stream's (or its ``table_name``'s) shaper: column types stored by earlier runs
    (``stored``: tables as dlt's schema holds them, ``{"columns": {name: {"data_type"}}}``),
    else the stream's declared schema."""
    table = stored.get(table_name or stream.name) or {}
    kinds = {
        name: str(column["data_type"])
        for name, column in (table.get("columns") or {}).items()
        if column.get("data_type")
    }
    return TableShaper(declared_kinds(stream.json_schema), kinds, keys=stream.primary_key)


def _item(table: str, shaper: TableShaper, records: list[dict[str, Any]], routed: bool) -> Item:
    data = shaper.columns(records)
    return Item(table, data, shaper.new_json_columns(), routed)


class Router:
    """Records of a ``table_of`` stream (custom object records) into one table each.

    A tombstone carries no ``objectKey``, so it goes to every table the stream ever wrote
    (``tables``, kept in the stream's state): deleting an id absent from a table is a no-op
    there."""

    def __init__(
        self,
        stream: Stream,
        tables: list[str],
        stored: Mapping[str, Any],
        arrow: bool = True,
    ) -> None:
        assert stream.table_of is not None
        self.stream = stream
        self.table_of = stream.table_of
        self.arrow = arrow
        #: the stream's tables so far (the caller's list, updated in place)
        self.tables = tables
        self.stored = stored
        self.shapers: dict[str, TableShaper] = {}

    def items(self, records: list[dict[str, Any]]) -> list[Item]:
        routed: dict[str, list[dict[str, Any]]] = {}
        tombstones: list[dict[str, Any]] = []
        for record in records:
            table = self.table_of(record)
            if table is None:
                tombstones.append(record)
            else:
                routed.setdefault(table, []).append(record)
                if table not in self.tables:
                    self.tables.append(table)
        for table in self.tables:
            if tombstones:
                routed.setdefault(table, []).extend(tombstones)
        out = []
        for table, rows in routed.items():
            if not self.arrow:
                out.append(Item(table, rows, routed=True))
                continue
            shaper = self.shapers.get(table)
            if shaper is None:
                shaper = self.shapers[table] = shaper_for(self.stream, self.stored, table)
            out.append(_item(table, shaper, rows, True))
        return out


def items(
    stream: Stream,
    router: Router | None,
    shaper: TableShaper | None,
    records: list[dict[str, Any]],
) -> list[Item]:
    """What ``records`` load as: one Arrow table (or the records, with neither a router nor a
    shaper), or one per custom object's table."""
    if not records:
        return []
    if router is not None:
        return router.items(records)
    if shaper is None:
        return [Item(stream.name, records)]
    return [_item(stream.name, shaper, records, False)]
