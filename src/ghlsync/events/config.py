"""The collector's configuration: a frozen, validated value (sources, mapping, queue, webhooks).

Parsed once from a YAML/JSON file or built from ``ghlsync serve --location ID --write-key KEY``;
every unknown key is refused at every level. Write keys and the admin key are kept only as
SHA-256 digests: the file never holds a key, and neither does any repr.

Example file::

    sources:
      - name: web
        location_id: ve9EPM428h8vShlRW1KT
        write_key_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    queue: sqlite              # or redis://127.0.0.1:6379/0
    max_attempts: 8
    admin_key_sha256: ...      # GET /debug, /v1/dlq
    webhooks:
      app_id: 64f0...          # deliveries for another app are refused
      apply_to: ./ghlsync.duckdb
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ghlsync.client.connection import Connection
from ghlsync.errors import ConfigError
from ghlsync.mapping import ContactMappingSpec

#: HighLevel's published Ed25519 webhook key (SPKI DER, base64; GHL-NOTES §8)
HIGHLEVEL_ED25519_KEY = "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg="

#: Segment's documented limits: 32 KB per message, 500 KB per batch request
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BODY_BYTES = 500 * 1024


def hash_key(key: str) -> str:
    """The SHA-256 hex digest a config file stores instead of a write key or admin key."""
    return hashlib.sha256(key.encode()).hexdigest()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Frozen):
    """One sending source: its write key (hashed) and the location its contacts go to."""

    name: str = Field(min_length=1, max_length=100)
    location_id: str = Field(min_length=1, max_length=100)
    write_key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", repr=False)


class TrackRule(_Frozen):
    """What a ``track`` event with this name does: upsert, with ``source``/tags from properties."""

    action: Literal["upsert", "drop"] = "upsert"
    #: properties read, first present wins, for the contact's ``source``
    source_from: tuple[str, ...] = ()
    #: used when no ``source_from`` property is present
    source_default: str | None = None
    #: properties read for tags to ADD (a string or a list of strings)
    tags_from: tuple[str, ...] = ()
    #: tags added whenever the event arrives
    tags: tuple[str, ...] = ()


class Consent(_Frozen):
    """``context.consent.categoryPreferences[category]`` -> ``dnd`` (and per-channel settings)."""

    category: str = "marketing"
    #: channels of ``dndSettings`` set too, e.g. ``[Email, SMS]``; empty: only ``dnd``
    dnd_channels: tuple[Literal["Call", "Email", "SMS", "WhatsApp", "GMB", "FB"], ...] = ()


#: seeds/001's Default preset: HighLevel field -> canonical trait
DEFAULT_CONTACT = ContactMappingSpec(
    fields={
        "email": "email",
        "phone": "phone",
        "firstName": "first_name",
        "lastName": "last_name",
        "name": "name",
        "companyName": "company",
        "address1": "address",
        "city": "city",
        "state": "state",
        "postalCode": "postal_code",
        "country": "country",
        "website": "website",
    },
    auto_match=False,
)


class EventMapping(_Frozen):
    """The event mapping; the default value is seeds/001's Default preset."""

    identify: Literal["upsert", "drop"] = "upsert"
    track: dict[str, TrackRule] = Field(
        default_factory=lambda: {
            "Signed Up": TrackRule(
                source_from=("method", "signup_method", "type"), source_default="Signed Up"
            ),
            "Lead Generated": TrackRule(
                source_from=("source",), tags_from=("lead_tag",), tags=("lead",)
            ),
        }
    )
    #: traits -> contact fields through the shared ``ghlsync.mapping`` spec (seeds/001
    #: "Identity Signals"); trait names are canonical first (``firstName`` -> ``first_name``,
    #: an ``address`` object -> ``address``/``city``/``state``/``postal_code``/``country``)
    contact: ContactMappingSpec = Field(default_factory=lambda: DEFAULT_CONTACT)
    #: None: DND is left untouched (seeds/001: remove the dnd mapping)
    consent: Consent | None = Field(default_factory=Consent)


class Webhooks(_Frozen):
    """``POST /webhooks/ghl``: keys, app filter, replay window, optional warehouse."""

    enabled: bool = True
    ed25519_keys: tuple[str, ...] = (HIGHLEVEL_ED25519_KEY,)
    rsa_keys: tuple[str, ...] = ()
    app_id: str | None = None
    max_age_s: float = 300.0
    #: a DuckDB file with the extract's tables: contact/opportunity/... events are applied to it
    apply_to: str | None = None


class EventsConfig(_Frozen):
    """Everything ``ghlsync serve`` needs that is not a secret or I/O."""

    sources: tuple[Source, ...] = Field(min_length=1)
    mapping: EventMapping = Field(default_factory=EventMapping)
    queue: str = "sqlite"
    #: key prefix on Redis (queue and rate limiter), so several deployments can share one Redis
    redis_prefix: str = Field(default="ghlsync", pattern=r"^[A-Za-z0-9:_.-]{1,100}$")
    #: how long a Redis worker's lease on a partition lasts without renewal: a killed worker's
    #: partitions (and its share of the backlog) pass to the others after at most this long
    redis_lease_seconds: float = Field(default=5.0, ge=1.0, le=300.0)
    max_attempts: int = Field(default=8, ge=1, le=100)
    max_body_bytes: int = Field(default=MAX_BODY_BYTES, ge=1024)
    admin_key_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", repr=False)
    webhooks: Webhooks = Field(default_factory=Webhooks)
    #: how to reach HighLevel (base URL, tokens per location, OAuth app, rate limits): the
    #: shared ``Connection`` of ``ghlsync.client.session``; the sources' locations are added
    connection: Connection | None = None

    @field_validator("queue")
    @classmethod
    def _queue(cls, value: str) -> str:
        if value == "sqlite" or value.startswith(("sqlite:", "redis://", "rediss://")):
            return value
        raise ValueError("queue must be sqlite, sqlite:/path/to/queue.sqlite3 or redis://...")

    def with_options(
        self, *, queue: str | None = None, admin_key: str | None = None
    ) -> EventsConfig:
        """This config with the CLI's ``--queue`` / ``--admin-key`` applied (validated)."""
        update: dict[str, Any] = {}
        if queue:
            try:
                update["queue"] = self._queue(queue)
            except ValueError as exc:
                raise ConfigError(f"--queue: {exc}") from None
        if admin_key:
            update["admin_key_sha256"] = hash_key(admin_key)
        return self.model_copy(update=update) if update else self

    def source_for_key(self, write_key: str) -> Source | None:
        """The source whose write key this is (compared in constant time), or None."""
        digest = hash_key(write_key)
        found = None
        for source in self.sources:
            if hmac.compare_digest(source.write_key_sha256, digest):
                found = source
        return found

    def is_admin(self, key: str | None) -> bool:
        if not key or self.admin_key_sha256 is None:
            return False
        return hmac.compare_digest(self.admin_key_sha256, hash_key(key))

    @classmethod
    def single(
        cls, location_id: str, write_key: str, *, admin_key: str | None = None, **options: Any
    ) -> EventsConfig:
        """The one-source config of ``ghlsync serve --location ID --write-key KEY``."""
        source = {
            "name": "default",
            "location_id": location_id,
            "write_key_sha256": hash_key(write_key),
        }
        admin = hash_key(admin_key) if admin_key else None
        raw = {"sources": [source], "admin_key_sha256": admin, **options}
        return parse_config(raw, where="options")


def load_config(path: Path) -> EventsConfig:
    """Read and validate a YAML or JSON config file; raise ``ConfigError`` naming the problem."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}", hint="pass an existing --config file"
        ) from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path} is not valid YAML/JSON: {exc}".splitlines()[0]) from None
    return parse_config(raw, where=str(path))


def parse_config(raw: object, *, where: str = "config") -> EventsConfig:
    """Validate a config document (a dict); every unknown key is refused."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    try:
        return EventsConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(
            f"{where}: {place}: {first['msg']}{more}",
            hint="see docs/events.md for the config file's keys",
        ) from None
