"""The ``Stream`` declaration the stream registries share.

``streams.STREAMS`` (the core streams) and ``streams_objects`` (custom objects, associations,
custom values, workflows) declare their streams with it. A stream names the wire shape of its
records (the client's ``TypedDict``); its JSON schema is derived from it (``schemas``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ghlsync.extract import readers as r
from ghlsync.extract.schemas import table_schema

Mode = Literal["incremental", "full"]


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
    #: the wire shape of the records (``client.resources``' TypedDict): the JSON schema's source
    shape: type
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
    #: the table's JSON schema (Singer catalog, dlt/Arrow column types), from ``shape``
    json_schema: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        schema = table_schema(self.shape, custom_fields=self.custom_fields)
        object.__setattr__(self, "json_schema", schema)

    @property
    def full_table(self) -> bool:
        return self.mode == "full"
