"""The ``Stream`` declaration and the JSON-schema shorthands the stream registries share.

``streams.STREAMS`` (the core streams) and ``streams_objects`` (custom objects, associations,
custom values, workflows) declare their streams with these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ghlsync.extract import readers as r
from ghlsync.extract.shape import DELETED, LOCATION_ID

Mode = Literal["incremental", "full"]


def obj(properties: dict[str, Any], required: tuple[str, ...] = ("id", LOCATION_ID)) -> Any:
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            LOCATION_ID: {"type": "string"},
            DELETED: {"type": ["boolean", "null"]},
            **properties,
        },
        "required": list(required),
        "additionalProperties": True,
    }


_S = {"type": ["string", "null"]}
_DT = {"type": ["string", "null"], "format": "date-time"}
_N = {"type": ["number", "null"]}
_I = {"type": ["integer", "null"]}
_B = {"type": ["boolean", "null"]}
_STR_LIST = {"type": ["array", "null"], "items": {"type": "string"}}
_CUSTOM = {
    "type": ["array", "null"],
    "items": {"type": "object", "properties": {"id": {"type": "string"}}},
}
_BY_KEY = {"type": ["object", "null"], "additionalProperties": True}
_OBJ = {"type": ["object", "null"], "additionalProperties": True}
_ARR = {"type": ["array", "null"]}


@dataclass(frozen=True)
class Stream:
    """One table of the extract."""

    name: str
    #: the endpoint, client method and paginator it uses (documentation, Singer metadata)
    endpoint: str
    resource_method: str
    paginator: str
    scope: str
    mode: Mode
    json_schema: dict[str, Any]
    #: how the records are read (``readers``)
    reader: r.Reader = field(repr=False, compare=False)
    primary_key: tuple[str, ...] = ("location_id", "id")
    cursor_field: str | None = None
    #: emit only records with this timestamp >= ``bookmark cursor - overlap`` (see the module)
    changed_field: str | None = None
    parent: str | None = None
    #: scopes of other calls the reader makes (named when the stream is skipped for a scope)
    also_needs: tuple[str, ...] = ()
    default_enabled: bool = True
    #: records carry ``customFields`` (``[{id, value}]``): add ``custom_field_values`` by key
    custom_fields: bool = False
    #: one table per value (``object_pet`` per custom object): the table a record goes to;
    #: None for a tombstone, which goes to every table of the stream (a no-op where absent)
    table_of: Callable[[Mapping[str, Any]], str | None] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def full_table(self) -> bool:
        return self.mode == "full"
