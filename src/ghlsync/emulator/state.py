"""In-memory state of the emulated HighLevel: company, locations, collections, tokens, events.

One ``Store`` holds everything an emulator instance knows. Route modules read and write it
through a few small methods (``collection``, ``put``, ``get``, ``delete``, ``find``) so that
indexes (contacts' sorted and duplicate-lookup indexes) and delete tracking stay in one place.
Listeners (webhooks out, test probes) subscribe to ``emit``.
"""

from __future__ import annotations

import bisect
import functools
import math
import random
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Entity = dict[str, Any]
Listener = Callable[[str, str | None, Entity], None]

#: Every per-location collection the emulator knows. Route modules may add more with
#: ``Store.collection(location_id, kind)``: unknown kinds are created on first use.
KINDS: tuple[str, ...] = (
    "contacts",
    "custom_fields",
    "tags",
    "notes",
    "tasks",
    "opportunities",
    "pipelines",
    "campaigns",
    "users",
    "calendars",
    "calendar_events",
    "conversations",
    "messages",
    "businesses",
    "forms",
    "form_submissions",
    "surveys",
    "survey_submissions",
    "invoices",
    "products",
    "prices",
    "orders",
    "transactions",
)

#: Every scope a default token carries (``docs/oauth/Scopes.md``).
ALL_SCOPES: frozenset[str] = frozenset(
    [
        "associations.readonly",
        "associations.write",
        "associations/relation.readonly",
        "associations/relation.write",
        "businesses.readonly",
        "businesses.write",
        "calendars.readonly",
        "calendars.write",
        "calendars/events.readonly",
        "calendars/events.write",
        "calendars/groups.readonly",
        "calendars/groups.write",
        "calendars/resources.readonly",
        "calendars/resources.write",
        "campaigns.readonly",
        "contacts.readonly",
        "contacts.write",
        "conversations.readonly",
        "conversations.write",
        "conversations/message.readonly",
        "conversations/message.write",
        "forms.readonly",
        "invoices.readonly",
        "invoices.write",
        "invoices/schedule.readonly",
        "invoices/schedule.write",
        "invoices/template.readonly",
        "invoices/template.write",
        "locations.readonly",
        "locations.write",
        "locations/customFields.readonly",
        "locations/customFields.write",
        "locations/customValues.readonly",
        "locations/customValues.write",
        "locations/tags.readonly",
        "locations/tags.write",
        "locations/tasks.readonly",
        "locations/templates.readonly",
        "medias.readonly",
        "medias.write",
        "oauth.readonly",
        "oauth.write",
        "objects/record.readonly",
        "objects/record.write",
        "objects/schema.readonly",
        "objects/schema.write",
        "opportunities.readonly",
        "opportunities.write",
        "payments/orders.readonly",
        "payments/orders.write",
        "payments/subscriptions.readonly",
        "payments/transactions.readonly",
        "products.readonly",
        "products.write",
        "products/prices.readonly",
        "products/prices.write",
        "surveys.readonly",
        "users.readonly",
        "users.write",
        "workflows.readonly",
    ]
)

_ID_ALPHABET = string.ascii_letters + string.digits
_BYTE_TO_ALNUM = bytes(ord(_ID_ALPHABET[i % len(_ID_ALPHABET)]) for i in range(256))


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as HighLevel writes timestamps (``...T12:00:00.000Z``)."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def iso_from_ms(epoch_ms: int) -> str:
    return iso(datetime.fromtimestamp(epoch_ms / 1000, UTC))


@functools.lru_cache(maxsize=1 << 16)
def ms_from_iso(value: str) -> int:
    """Epoch milliseconds of an ISO-8601 timestamp (``Z`` or an offset); cached, since every
    search page turns each record's stamp into its ``searchAfter`` cursor."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class Clock:
    """Wall clock and monotonic clock; tests replace it to move time without sleeping."""

    def __init__(self) -> None:
        self.offset_seconds = 0.0

    def time(self) -> float:
        return time.time() + self.offset_seconds

    def monotonic(self) -> float:
        return time.monotonic() + self.offset_seconds

    def advance(self, seconds: float) -> None:
        if not math.isfinite(seconds):
            # an infinite offset breaks every timestamp until restart: refuse it here too
            raise ValueError(f"the clock cannot move by {seconds} seconds")
        self.offset_seconds += seconds


@dataclass
class Token:
    """A bearer token the emulator accepts.

    ``kind`` is ``location`` (Private Integration or OAuth location token) or ``company``
    (agency token). ``app_id`` names the rate-limit identity: HighLevel limits per app per
    resource, so two tokens of one app share a bucket per location.
    """

    value: str
    kind: str
    company_id: str
    location_id: str | None
    scopes: frozenset[str]
    app_id: str
    expires_at: float | None = None  # wall-clock seconds; None = never (Private Integration)
    source: str = "private-integration"  # or "oauth"
    user_id: str | None = None


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str
    app_id: str
    redirect_uris: list[str] = field(default_factory=list)
    scopes: frozenset[str] = ALL_SCOPES


@dataclass
class DuplicateSettings:
    """A location's "Allow Duplicate Contact" setting and its matching priority."""

    allow_duplicate_contact: bool = False
    #: fields checked for duplicates, first match wins on upsert
    priority: list[str] = field(default_factory=lambda: ["email", "phone"])

    def to_wire(self) -> dict[str, Any]:
        return {
            "allowDuplicateContact": self.allow_duplicate_contact,
            "allowDuplicateOpportunity": False,
            "allowFacebookNameMerge": False,
            "disableContactTimezone": False,
            "contactUniqueIdentifiers": list(self.priority),
        }


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


@dataclass
class LocationState:
    """One sub-account: its record, its settings and its collections."""

    id: str
    record: Entity
    duplicates: DuplicateSettings = field(default_factory=DuplicateSettings)
    collections: dict[str, Collection] = field(default_factory=dict)

    def collection(self, kind: str) -> Collection:
        found = self.collections.get(kind)
        if found is None:
            found = ContactCollection(kind) if kind == "contacts" else Collection(kind)
            self.collections[kind] = found
        return found


@dataclass
class RequestRecord:
    """One request as the emulator received it (the admin API's request log)."""

    at: str
    method: str
    path: str
    query: str
    operation: str
    status: int
    location_id: str | None
    token_kind: str | None
    version: str | None
    body: Any
    fault: str | None = None


class Store:
    """Everything one emulator instance holds. Thread-safe enough for one event loop.

    ``lock`` guards the whole store when admin calls from another thread (tests using
    ``EmulatorServer``) mutate it while the server's loop serves requests.
    """

    def __init__(self, *, seed: int = 0, clock: Clock | None = None) -> None:
        self.seed = seed
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self._ids = random.Random(f"ids:{seed}")
        self.company: Entity = {}
        self.locations: dict[str, LocationState] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}  # refresh token -> the grant it renews
        self.auth_codes: dict[str, Token] = {}  # authorization code -> the grant it gives
        self.oauth_apps: dict[str, OAuthApp] = {}
        self.installed: dict[str, set[str]] = {}  # app id -> location ids
        self.private_tokens: dict[str, str] = {}  # location id -> its Private Integration token
        self.agency_token: str | None = None
        self.counters: dict[str, int] = {}
        self.request_counts: dict[tuple[str, int], int] = {}
        self.request_log: deque[RequestRecord] = deque(maxlen=1000)
        self.events: deque[tuple[str, str | None, Entity]] = deque(maxlen=1000)
        self._listeners: list[Listener] = []
        self.extras: dict[str, Any] = {}  # free slot for route modules (e.g. webhooks config)
        #: how long API writes take to reach contact search (``EmulatorSettings``); writes
        #: remember the previous version only while this is on
        self.search_index_delay_s = 0.0

    # ----------------------------------------------------------------- ids and time
    def new_id(self, length: int = 20) -> str:
        """A 20-character alphanumeric id like HighLevel's (deterministic per seed)."""
        return "".join(self._ids.choices(_ID_ALPHABET, k=length))

    def new_ids(self, count: int, length: int = 20) -> list[str]:
        """``count`` ids at once (seeding a million contacts): random bytes mapped to
        alphanumerics in one ``bytes.translate``."""
        raw = self._ids.randbytes(count * length).translate(_BYTE_TO_ALNUM).decode("ascii")
        return [raw[i : i + length] for i in range(0, count * length, length)]

    def now(self) -> str:
        """The current time as HighLevel writes it; strictly increasing per store.

        Successive writes within one millisecond still get increasing ``dateUpdated`` values, so
        an incremental reader filtering ``dateUpdated > bookmark`` never misses one.
        """
        ms = int(self.clock.time() * 1000)
        last = self.counters.get("_last_now_ms", 0)
        if ms <= last:
            ms = last + 1
        self.counters["_last_now_ms"] = ms
        return iso_from_ms(ms)

    def now_readonly(self) -> str:
        """The current time, without reserving it for a write."""
        return iso_from_ms(int(self.clock.time() * 1000))

    def next_counter(self, name: str) -> int:
        value = self.counters.get(name, 0) + 1
        self.counters[name] = value
        return value

    # ----------------------------------------------------------------- locations
    def add_location(self, record: Entity) -> LocationState:
        location = LocationState(id=record["id"], record=record)
        for kind in KINDS:
            location.collection(kind)
        self.locations[location.id] = location
        return location

    def location(self, location_id: str) -> LocationState | None:
        return self.locations.get(location_id)

    # ----------------------------------------------------------------- entities
    def collection(self, location_id: str, kind: str) -> Collection:
        location = self.locations.get(location_id)
        if location is None:
            raise KeyError(location_id)
        return location.collection(kind)

    def contacts(self, location_id: str) -> ContactCollection:
        found = self.collection(location_id, "contacts")
        assert isinstance(found, ContactCollection)
        return found

    def get(self, location_id: str, kind: str, entity_id: str) -> Entity | None:
        location = self.locations.get(location_id)
        return None if location is None else location.collection(kind).get(entity_id)

    def put(self, location_id: str, kind: str, entity: Entity) -> Entity:
        return self.collection(location_id, kind).put(entity)

    def delete(self, location_id: str, kind: str, entity_id: str) -> Entity | None:
        return self.collection(location_id, kind).delete(entity_id, self.now())

    def find(self, kind: str, entity_id: str) -> tuple[str, Entity] | None:
        """Find an entity by id in any location (paths like ``/contacts/{id}`` carry no location)."""
        for location in self.locations.values():
            found = location.collection(kind).get(entity_id)
            if found is not None:
                return location.id, found
        return None

    # ----------------------------------------------------------------- events
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event_type, location_id, body)`` on every emitted event."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, event_type: str, location_id: str | None, body: Entity) -> None:
        """Announce a change (``ContactCreate``, ``OpportunityUpdate``, ...) to listeners.

        ``body`` is the documented webhook body without the delivery envelope; the webhook
        sender adds ``webhookId`` and ``timestamp``. A failing listener never fails the request.
        """
        payload = {"type": event_type, "locationId": location_id, **body}
        self.events.append((event_type, location_id, payload))
        for listener in list(self._listeners):
            try:
                listener(event_type, location_id, payload)
            except Exception:
                self.counters["listener_errors"] = self.counters.get("listener_errors", 0) + 1
                continue

    # ----------------------------------------------------------------- tokens
    def issue_token(
        self,
        *,
        kind: str,
        company_id: str,
        location_id: str | None,
        scopes: frozenset[str] = ALL_SCOPES,
        app_id: str,
        ttl_seconds: float | None = None,
        source: str = "private-integration",
        prefix: str = "",
        user_id: str | None = None,
    ) -> Token:
        value = prefix + self.new_id(40)
        expires_at = None if ttl_seconds is None else self.clock.time() + ttl_seconds
        token = Token(
            value=value,
            kind=kind,
            company_id=company_id,
            location_id=location_id,
            scopes=scopes,
            app_id=app_id,
            expires_at=expires_at,
            source=source,
            user_id=user_id,
        )
        self.tokens[value] = token
        return token

    def expire_tokens(self, values: Iterable[str] | None = None) -> int:
        """Force tokens to expire now (all expiring OAuth tokens when ``values`` is None)."""
        now = self.clock.time() - 1
        count = 0
        for token in self.tokens.values():
            if values is None and token.source != "oauth":
                continue
            if values is not None and token.value not in set(values):
                continue
            token.expires_at = now
            count += 1
        return count
