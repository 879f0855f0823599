"""The stream registry: what ``ghlsync extract`` reads, declared once per stream.

Each ``Stream`` names its primary key, the client resource method that reads it, the paginator
style that method uses (declared in ``ghlsync.client.pagination``), its replication mode, the
scope it needs, its parent (for child streams) and a JSON schema (the Singer tap sends it; dlt
infers types from data and takes the primary key and write disposition from here).

Replication modes:

- ``incremental``: re-read from ``bookmark - overlap`` by the cursor field (``dateUpdated``);
  merging on the primary key makes the overlap free of duplicates. Deletes are not visible.
- ``full``: read every record each run and compare the ids with the previous run's (kept in the
  state): ids that disappeared are written as tombstones (``_ghlsync_deleted = true``) which the
  dlt source turns into hard deletes. Used for small collections and for opportunities, whose
  search filter is a day with no documented timestamp (so an incremental read could not be exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Mode = Literal["incremental", "full"]

#: Columns every record gets.
LOCATION_ID = "location_id"
DELETED = "_ghlsync_deleted"


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ("id", LOCATION_ID)) -> Any:
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
_B = {"type": ["boolean", "null"]}
_STR_LIST = {"type": ["array", "null"], "items": {"type": "string"}}
_CUSTOM = {
    "type": ["array", "null"],
    "items": {"type": "object", "properties": {"id": {"type": "string"}}},
}
_BY_KEY = {"type": ["object", "null"], "additionalProperties": True}


@dataclass(frozen=True)
class Stream:
    """One table of the extract."""

    name: str
    #: the client call that reads it (documentation and the Singer catalog's metadata)
    endpoint: str
    resource_method: str
    paginator: str
    scope: str
    mode: Mode
    json_schema: dict[str, Any]
    primary_key: tuple[str, ...] = ("location_id", "id")
    cursor_field: str | None = None
    parent: str | None = None
    default_enabled: bool = True
    #: records carry ``customFields`` (``[{id, value}]``): add ``custom_field_values`` by key
    custom_fields: bool = False

    @property
    def full_table(self) -> bool:
        return self.mode == "full"


STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream(
            name="locations",
            endpoint="GET /locations/{locationId}",
            resource_method="locations.get",
            paginator="single",
            scope="locations.readonly",
            mode="full",
            json_schema=_obj({"name": _S, "companyId": _S, "timezone": _S, "email": _S}),
        ),
        Stream(
            name="custom_fields",
            endpoint="GET /locations/{locationId}/customFields",
            resource_method="custom_fields.list",
            paginator="single",
            scope="locations/customFields.readonly",
            mode="full",
            json_schema=_obj(
                {"name": _S, "fieldKey": _S, "dataType": _S, "model": _S, "position": _N}
            ),
        ),
        Stream(
            name="contacts",
            endpoint="POST /contacts/search",
            resource_method="contacts.pages",
            paginator="SearchAfterPaginator",
            scope="contacts.readonly",
            mode="incremental",
            cursor_field="dateUpdated",
            custom_fields=True,
            json_schema=_obj(
                {
                    "firstName": _S,
                    "lastName": _S,
                    "email": _S,
                    "phone": _S,
                    "source": _S,
                    "type": _S,
                    "tags": _STR_LIST,
                    "dnd": _B,
                    "assignedTo": _S,
                    "dateAdded": _DT,
                    "dateUpdated": _DT,
                    "customFields": _CUSTOM,
                    "custom_field_values": _BY_KEY,
                }
            ),
        ),
        Stream(
            name="pipelines",
            endpoint="GET /opportunities/pipelines",
            resource_method="pipelines.list",
            paginator="single",
            scope="opportunities.readonly",
            mode="full",
            json_schema=_obj(
                {
                    "name": _S,
                    "stages": {
                        "type": ["array", "null"],
                        "items": {
                            "type": "object",
                            "properties": {"id": _S, "name": _S, "position": _N},
                        },
                    },
                }
            ),
        ),
        Stream(
            name="opportunities",
            endpoint="GET /opportunities/search",
            resource_method="opportunities.pages",
            paginator="CursorPaginator",
            scope="opportunities.readonly",
            mode="full",
            custom_fields=True,
            json_schema=_obj(
                {
                    "name": _S,
                    "status": _S,
                    "monetaryValue": _N,
                    "pipelineId": _S,
                    "pipelineStageId": _S,
                    "contactId": _S,
                    "source": _S,
                    "createdAt": _DT,
                    "updatedAt": _DT,
                    "customFields": _CUSTOM,
                    "custom_field_values": _BY_KEY,
                }
            ),
        ),
        Stream(
            name="users",
            endpoint="GET /users/?locationId=",
            resource_method="users.list",
            paginator="single",
            scope="users.readonly",
            mode="full",
            json_schema=_obj({"name": _S, "email": _S}),
        ),
        Stream(
            name="campaigns",
            endpoint="GET /campaigns/",
            resource_method="campaigns.list",
            paginator="single",
            scope="campaigns.readonly",
            mode="full",
            default_enabled=False,
            json_schema=_obj({"name": _S, "status": _S}),
        ),
    )
}


def select(names: list[str] | tuple[str, ...] | None = None) -> list[Stream]:
    """The streams to run: ``names`` in registry order, or every default-enabled stream."""
    if not names:
        return [s for s in STREAMS.values() if s.default_enabled]
    unknown = sorted(set(names) - set(STREAMS))
    if unknown:
        from ghlsync.errors import ConfigError

        raise ConfigError(
            f"unknown stream(s): {', '.join(unknown)}",
            hint=f"known streams: {', '.join(STREAMS)}",
        )
    wanted = set(names)
    return [s for s in STREAMS.values() if s.name in wanted]
