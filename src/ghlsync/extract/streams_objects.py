"""Streams of custom objects, their records, associations, relations, custom values and
workflows (issue 16 items 7-8). ``streams.STREAMS`` includes them; the modes follow
``streams``' module docstring: records and workflows are full scans with a ``changed_field``
(``updatedAt``), so deletes become tombstones and unchanged rows are not rewritten."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ghlsync.client.resources.objects import (
    Association,
    CustomValue,
    ObjectField,
    ObjectRecord,
    ObjectSchema,
    Relation,
    Workflow,
)
from ghlsync.extract import readers_objects as ro
from ghlsync.extract.stream_types import Stream


def object_table(record: Mapping[str, Any]) -> str | None:
    """``custom_objects.pet`` -> ``object_pet``: one table per custom object (None for a
    tombstone, which carries no ``objectKey``)."""
    key = record.get("objectKey")
    if not isinstance(key, str) or not key:
        return None
    name = re.sub(r"[^0-9a-z]+", "_", key.removeprefix("custom_objects.").lower()).strip("_")
    return f"object_{name or 'unnamed'}"


OBJECT_STREAMS: tuple[Stream, ...] = (
    Stream(
        name="custom_objects",
        endpoint="GET /objects/?locationId=",
        resource_method="objects.list",
        paginator="single",
        scope="objects/schema.readonly",
        mode="full",
        reader=ro.read_custom_objects,
        shape=ObjectSchema,
    ),
    Stream(
        name="object_fields",
        endpoint="GET /custom-fields/object-key/{objectKey} (per custom object)",
        resource_method="objects.fields",
        paginator="single (per custom object)",
        scope="locations/customFields.readonly",
        also_needs=("objects/schema.readonly",),
        mode="full",
        reader=ro.read_object_fields,
        shape=ObjectField,
    ),
    Stream(
        name="custom_object_records",
        endpoint="POST /objects/{key}/records/search (per custom object)",
        resource_method="objects.record_pages",
        paginator="SearchAfterPaginator",
        scope="objects/record.readonly",
        also_needs=("objects/schema.readonly",),
        mode="full",
        cursor_field="updatedAt",
        changed_field="updatedAt",
        table_of=object_table,
        reader=ro.read_object_records,
        shape=ObjectRecord,
    ),
    Stream(
        name="associations",
        endpoint="GET /associations/?locationId=",
        resource_method="associations.pages",
        paginator="OffsetPaginator (skip)",
        scope="associations.readonly",
        mode="full",
        reader=ro.read_associations,
        shape=Association,
    ),
    Stream(
        name="relations",
        endpoint="GET /associations/relations/{recordId} (per custom object record)",
        resource_method="associations.relation_pages",
        paginator="OffsetPaginator (skip, per record)",
        scope="associations/relation.readonly",
        also_needs=("objects/schema.readonly", "objects/record.readonly"),
        mode="full",
        parent="custom_object_records",
        default_enabled=False,
        reader=ro.read_relations,
        shape=Relation,
    ),
    Stream(
        name="custom_values",
        endpoint="GET /locations/{locationId}/customValues",
        resource_method="custom_values.list",
        paginator="single",
        scope="locations/customValues.readonly",
        mode="full",
        reader=ro.read_custom_values,
        shape=CustomValue,
    ),
    Stream(
        name="workflows",
        endpoint="GET /workflows/?locationId=",
        resource_method="workflows.list",
        paginator="single",
        scope="workflows.readonly",
        mode="full",
        cursor_field="updatedAt",
        changed_field="updatedAt",
        reader=ro.read_workflows,
        shape=Workflow,
    ),
)

__all__ = ["OBJECT_STREAMS"]
