"""``Collection``: the entities of one kind in one location, keyed by id, deletes tracked."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

Entity = dict[str, Any]


class Collection:
    """Entities of one kind in one location, keyed by id, with deletes tracked."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: dict[str, Entity] = {}
        #: id -> ISO time of deletion, so incremental readers and tests can see deletes
        self.deleted: dict[str, str] = {}
        #: bumped on every change, so route modules can cache sorted views per version
        self.version = 0

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.items

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.items.values())

    def get(self, entity_id: str) -> Entity | None:
        return self.items.get(entity_id)

    def put(self, entity: Entity) -> Entity:
        self.version += 1
        self.items[entity["id"]] = entity
        self.deleted.pop(entity["id"], None)
        return entity

    def delete(self, entity_id: str, when: str) -> Entity | None:
        self.version += 1
        entity = self.items.pop(entity_id, None)
        if entity is not None:
            self.deleted[entity_id] = when
        return entity

    def bulk_load(self, entities: Iterable[Entity]) -> None:
        self.version += 1
        for entity in entities:
            self.items[entity["id"]] = entity
