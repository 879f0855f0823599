"""``ContactCollection``: contacts with the indexes search and duplicate lookup need."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ghlsync.emulator.collection import Collection, Entity


def normalize_email_key(email: str) -> str:
    return email.strip().lower()


class ContactCollection(Collection):
    """Contacts with the indexes search and duplicate lookup need at a million records.

    ``by_updated`` / ``by_added`` are lists of ``(timestamp, id)`` kept sorted with ``bisect``;
    ``by_email`` / ``by_phone`` map a normalised value to the ids holding it (in creation order).
    ``values`` maps ``tags``, ``country`` and ``customFields.<id>`` to {lower-cased value: ids}
    (the ``eq`` filters). ``sorted_by`` holds a sort index per other sort field, built on its
    first use; ``totals`` the match count of recent filtered searches. All of them are kept up
    to date on every write, so a write never sends the next search back to a full scan.
    Callers must replace a contact through ``put`` (never mutate an indexed field in place).
    """

    def __init__(self, kind: str = "contacts") -> None:
        super().__init__(kind)
        self.by_updated: list[tuple[str, str]] = []
        self.by_added: list[tuple[str, str]] = []
        self.by_email: dict[str, list[str]] = {}
        self.by_phone: dict[str, list[str]] = {}
        #: bumped on every change
        self.version = 0
        #: id -> (wall time of the last API write, the version search showed before it); only
        #: consulted when the search indexing delay is on
        self.recent: dict[str, tuple[float, Entity | None]] = {}
        #: "tags" / "country" / "customFields.<id>" -> normalised value -> ids
        self.values: dict[str, dict[Any, set[str]]] = {}
        #: sort field -> sorted keys ``key_of(contact)`` (ending with the id), and the key
        #: function; built on first use by ``sort_index``
        self.sorted_by: dict[str, list[tuple[Any, ...]]] = {}
        self._sort_keys: dict[str, Callable[[Entity], tuple[Any, ...]]] = {}
        #: search key -> [predicate, matching ids or None, count], kept up to date on each
        #: write (``matching``)
        self.totals: dict[str, list[Any]] = {}
        #: id -> the lower-cased text ``query`` searches (``text_index``), once built
        self.haystacks: dict[str, str] | None = None
        self._haystack: Callable[[Entity], str] | None = None

    def text_index(self, haystack_of: Callable[[Entity], str]) -> dict[str, str]:
        """Each contact's searchable text (built on first use, then kept up to date)."""
        if self.haystacks is None:
            self.haystacks = {key: haystack_of(contact) for key, contact in self.items.items()}
            self._haystack = haystack_of
        return self.haystacks

    # ------------------------------------------------------------------ value indexes
    @staticmethod
    def value_keys(contact: Entity) -> Iterator[tuple[str, Any]]:
        """(index, key) pairs of a contact: its tags, country and custom field values."""
        for tag in contact.get("tags") or ():
            if isinstance(tag, str):
                yield "tags", tag.lower()
        country = contact.get("country")
        if isinstance(country, str) and country:
            yield "country", country.lower()
        for item in contact.get("customFields") or ():
            value = item.get("value")
            name = f"customFields.{item.get('id')}"
            for part in value if isinstance(value, list) else (value,):
                if isinstance(part, str):
                    yield name, part.lower()
                elif isinstance(part, int | float):
                    yield name, part

    def _index_values(self, contact: Entity) -> None:
        values, entity_id = self.values, contact["id"]
        for name, key in self.value_keys(contact):
            bucket = values.get(name)
            if bucket is None:
                bucket = values[name] = {}
            ids = bucket.get(key)
            if ids is None:
                bucket[key] = {entity_id}
            else:
                ids.add(entity_id)

    def _unindex_values(self, contact: Entity) -> None:
        entity_id = contact["id"]
        for name, key in self.value_keys(contact):
            bucket = self.values.get(name)
            ids = bucket.get(key) if bucket is not None else None
            if ids is not None:
                ids.discard(entity_id)
                if not ids:
                    del bucket[key]  # type: ignore[union-attr]

    def ids_with(self, field: str, wanted: Any) -> set[str] | None:
        """Ids whose ``field`` equals ``wanted`` (a normalised value or a list: any of them);
        None when no index answers ``field``."""
        if field not in ("tags", "country") and not field.startswith("customFields."):
            return None
        bucket = self.values.get(field, {})
        keys = wanted if isinstance(wanted, list) else [wanted]
        if len(keys) == 1:
            try:
                # the index's own set: callers only read it (intersections make new sets)
                return bucket.get(keys[0], set())
            except TypeError:
                return None
        found: set[str] = set()
        for key in keys:
            try:
                found |= bucket.get(key, set())
            except TypeError:  # an unhashable value: no index answers it
                return None
        return found

    # ------------------------------------------------------------------ sort indexes
    def sort_index(
        self, field: str, key_of: Callable[[Entity], tuple[Any, ...]]
    ) -> list[tuple[Any, ...]] | None:
        """The contacts' keys sorted by ``key_of`` (built once, then kept up to date); None
        when the field's values cannot be ordered against each other."""
        index = self.sorted_by.get(field)
        if index is None:
            try:
                index = sorted(key_of(contact) for contact in self.items.values())
            except TypeError:
                return None
            self.sorted_by[field] = index
            self._sort_keys[field] = key_of
        return index

    def _resort(self, old: Entity | None, new: Entity | None) -> None:
        for name in list(self.sorted_by):
            index, key_of = self.sorted_by[name], self._sort_keys[name]
            try:
                if old is not None:
                    key = key_of(old)
                    position = bisect.bisect_left(index, key)
                    if position < len(index) and index[position] == key:
                        del index[position]
                if new is not None:
                    bisect.insort(index, key_of(new))
            except TypeError:  # a value of another type: the index can no longer order it
                del self.sorted_by[name]
                del self._sort_keys[name]

    # ------------------------------------------------------------------ totals
    def matching(
        self, key: str, predicate: Callable[[Entity], bool], compute: Callable[[], set[str]]
    ) -> tuple[set[str] | None, int]:
        """The ids matching a search's ``predicate`` (None when more than 5% of the contacts
        match: then only their number is kept) and their number. Computed once, then kept up
        to date by every write instead of recomputed."""
        entry = self.totals.get(key)
        if entry is None:
            if len(self.totals) >= 64:
                self.totals.pop(next(iter(self.totals)))
            ids = compute()
            count = len(ids)
            kept: set[str] | None = ids if count * 20 <= len(self.items) else None
            entry = self.totals[key] = [predicate, kept, count]
        return entry[1], entry[2]

    def _retotal(self, old: Entity | None, new: Entity | None) -> None:
        for entry in self.totals.values():
            predicate, ids = entry[0], entry[1]
            if old is not None and predicate(old):
                entry[2] -= 1
                if ids is not None:
                    ids.discard(old["id"])
            if new is not None and predicate(new):
                entry[2] += 1
                if ids is not None:
                    ids.add(new["id"])

    @staticmethod
    def _remove_key(index: list[tuple[str, str]], key: tuple[str, str]) -> None:
        position = bisect.bisect_left(index, key)
        if position < len(index) and index[position] == key:
            del index[position]

    @staticmethod
    def _unmap(mapping: dict[str, list[str]], value: str | None, entity_id: str) -> None:
        if not value:
            return
        ids = mapping.get(value)
        if ids and entity_id in ids:
            ids.remove(entity_id)
            if not ids:
                del mapping[value]

    def _unindex(self, old: Entity) -> None:
        entity_id = old["id"]
        self._remove_key(self.by_updated, (old.get("dateUpdated") or "", entity_id))
        self._remove_key(self.by_added, (old.get("dateAdded") or "", entity_id))
        email = old.get("email")
        self._unmap(self.by_email, normalize_email_key(email) if email else None, entity_id)
        self._unmap(self.by_phone, old.get("phone"), entity_id)

    def _index(self, new: Entity) -> None:
        entity_id = new["id"]
        bisect.insort(self.by_updated, (new.get("dateUpdated") or "", entity_id))
        bisect.insort(self.by_added, (new.get("dateAdded") or "", entity_id))
        if new.get("email"):
            self.by_email.setdefault(normalize_email_key(new["email"]), []).append(entity_id)
        if new.get("phone"):
            self.by_phone.setdefault(new["phone"], []).append(entity_id)

    def put(self, entity: Entity) -> Entity:
        self.version += 1
        old = self.items.get(entity["id"])
        if old is not None:
            self._unindex(old)
            self._unindex_values(old)
        super().put(entity)
        self._index(entity)
        self._index_values(entity)
        if self.haystacks is not None and self._haystack is not None:
            self.haystacks[entity["id"]] = self._haystack(entity)
        self._resort(old, entity)
        self._retotal(old, entity)
        return entity

    def delete(self, entity_id: str, when: str) -> Entity | None:
        self.version += 1
        old = self.items.get(entity_id)
        if old is not None:
            self._unindex(old)
            self._unindex_values(old)
            self._resort(old, None)
            self._retotal(old, None)
            if self.haystacks is not None:
                self.haystacks.pop(entity_id, None)
        return super().delete(entity_id, when)

    def bulk_load(self, entities: Iterable[Entity]) -> None:
        """Load many contacts and build the indexes once (seeding)."""
        self.version += 1
        items, by_email, by_phone = self.items, self.by_email, self.by_phone
        loaded = list(entities)
        for entity in loaded:
            entity_id = entity["id"]
            items[entity_id] = entity
            email = entity.get("email")
            if email:
                key = email.strip().lower()
                ids = by_email.get(key)
                if ids is None:
                    by_email[key] = [entity_id]
                else:
                    ids.append(entity_id)
            phone = entity.get("phone")
            if phone:
                ids = by_phone.get(phone)
                if ids is None:
                    by_phone[phone] = [entity_id]
                else:
                    ids.append(entity_id)
        self.by_updated.extend([(e.get("dateUpdated") or "", e["id"]) for e in loaded])
        self.by_added.extend([(e.get("dateAdded") or "", e["id"]) for e in loaded])
        self.by_updated.sort()
        self.by_added.sort()
        for entity in loaded:
            self._index_values(entity)
        self.sorted_by.clear()
        self._sort_keys.clear()
        self.totals.clear()
        self.haystacks = None
