"""Record shaping (pure): ``location_id`` on every record, custom fields readable by key.

``customFields`` stays raw (``[{id, value}]``, a child table in dlt); ``custom_field_values``
adds ``{key: value}`` for every field with a known definition, the key being the definition's
``fieldKey`` without its model prefix (``contact.membership_status`` -> ``membership_status``).
Records keyed ``_id`` (the payments and invoices APIs) have it renamed ``id``, so every table's
primary key is ``(location_id, id)`` and no table holds the same value twice. Every record says
``_ghlsync_deleted`` (false, or true on a tombstone), so ``WHERE NOT _ghlsync_deleted`` works on
every table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ghlsync.mapping.custom_fields import FieldDef, readable_custom_fields

#: Columns every record gets.
LOCATION_ID = "location_id"
DELETED = "_ghlsync_deleted"
#: ``{key: value}`` of a record's custom fields, on streams that have them
CUSTOM_FIELD_VALUES = "custom_field_values"


def shape(
    record: Mapping[str, Any], location_id: str, defs_by_id: Mapping[str, FieldDef]
) -> dict[str, Any]:
    """``record`` as a row of its table; ``defs_by_id``: the location's custom field
    definitions (``ghlsync.mapping.field_defs``), named by ``mapping``'s one rule."""
    out = dict(record)
    out[LOCATION_ID] = location_id
    out[DELETED] = False
    if "_id" in out and out.get("id") in (None, out["_id"]):
        out["id"] = out.pop("_id")  # invoices, products, orders, transactions: MongoDB-style ids
    out.pop("searchAfter", None)  # a paging cursor, not data
    fields = out.get("customFields")
    if isinstance(fields, list) and fields:
        readable = readable_custom_fields(fields, defs_by_id)
        if readable:
            out[CUSTOM_FIELD_VALUES] = readable
    return out


def tombstone(record_id: str, location_id: str) -> dict[str, Any]:
    return {"id": record_id, LOCATION_ID: location_id, DELETED: True}
