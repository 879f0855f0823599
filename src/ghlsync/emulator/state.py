"""In-memory state of the emulated HighLevel: company, locations, collections, tokens, events.

One ``Store`` holds everything an emulator instance knows. Route modules read and write it
through a few small methods (``collection``, ``put``, ``get``, ``delete``, ``find``) so that
indexes (contacts' sorted and duplicate-lookup indexes) and delete tracking stay in one place.
Listeners (webhooks out, test probes) subscribe to ``emit``.
"""

from __future__ import annotations

import random
import string
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# the store's parts, re-exported: route modules take them from here
from ghlsync.emulator.clock import Clock as Clock
from ghlsync.emulator.clock import iso as iso
from ghlsync.emulator.clock import iso_from_ms as iso_from_ms
from ghlsync.emulator.clock import ms_from_iso as ms_from_iso
from ghlsync.emulator.collection import Collection as Collection
from ghlsync.emulator.collection import Entity as Entity
from ghlsync.emulator.contacts.indexes import ContactCollection as ContactCollection
from ghlsync.emulator.contacts.indexes import normalize_email_key as normalize_email_key

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
