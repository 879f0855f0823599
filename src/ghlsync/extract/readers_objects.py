"""Readers of the custom objects, associations, custom values and workflows streams.

Same contract as ``readers``: each yields ``Page``s for one location. Custom object records
are read object by object through ``POST /objects/{key}/records/search`` (every record each
run: the search has no documented filter on ``updatedAt``, so the stream is a full scan whose
``changed_field`` keeps unchanged rows from being rewritten and whose id diff finds deletes).
Relations are read per record (``GET /associations/relations/{recordId}``): one request per
custom object record, so that stream is off by default.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from ghlsync.extract.readers import Page, ReadContext, quota_warning


async def _custom_keys(ctx: ReadContext) -> list[str]:
    schemas = await ctx.client.objects.list(ctx.location_id)
    return [
        str(schema["key"])
        for schema in schemas
        if isinstance(schema, Mapping) and not schema.get("standard") and schema.get("key")
    ]


async def read_custom_objects(ctx: ReadContext) -> AsyncIterator[Page]:
    """The location's custom object schemas (standard objects left out)."""
    schemas = await ctx.client.objects.list(ctx.location_id)
    yield Page([s for s in schemas if isinstance(s, Mapping) and not s.get("standard")])


async def _records(ctx: ReadContext) -> AsyncIterator[tuple[bool, list[Any]]]:
    """(first page of an object?, records) for every custom object, object by object."""
    page_size = min(ctx.options.page_size, 100)
    for key in await _custom_keys(ctx):
        first = True
        async for page in ctx.client.objects.record_pages(
            key, ctx.location_id, page_size=page_size
        ):
            yield first, list(page.records)
            first = False


async def read_object_records(ctx: ReadContext) -> AsyncIterator[Page]:
    """Every record of every custom object (``objectKey`` tells them apart)."""
    yield Page([])  # the objects list
    async for _, records in _records(ctx):
        yield Page(records)


async def read_relations(ctx: ReadContext) -> AsyncIterator[Page]:
    """The relations of every custom object record, each relation once."""
    seen: set[str] = set()
    warned = False
    yield Page([])  # the objects list
    async for first, records in _records(ctx):
        if first and not warned:
            quota_warning(ctx, "relations", "custom object record", None)
            warned = True
        yield Page([], request=True)  # the records page
        for record in records:
            record_id = record.get("id") if isinstance(record, Mapping) else None
            if not isinstance(record_id, str):
                continue
            async for page in ctx.client.associations.relation_pages(record_id, ctx.location_id):
                fresh = []
                for relation in page.records:
                    relation_id = relation.get("id") if isinstance(relation, Mapping) else None
                    if isinstance(relation_id, str) and relation_id not in seen:
                        seen.add(relation_id)
                        fresh.append(relation)
                yield Page(fresh)


async def read_associations(ctx: ReadContext) -> AsyncIterator[Page]:
    async for page in ctx.client.associations.pages(ctx.location_id):
        yield Page(page.records)


async def read_custom_values(ctx: ReadContext) -> AsyncIterator[Page]:
    yield Page(list(await ctx.client.custom_values.list(ctx.location_id)))


async def read_workflows(ctx: ReadContext) -> AsyncIterator[Page]:
    yield Page(list(await ctx.client.workflows.list(ctx.location_id)))
