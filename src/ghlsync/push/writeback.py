"""Write-back: set fields, swap tags, add a note on one contact (seeds/003), or many from JSONL.

Example (async; with the blocking ``GHLClient`` use ``update_contact_sync``)::

    change = ContactChange(email="ann@example.com", set={"contact.call_notes": summary},
                           add_tags=("bloodwork_completed",), remove_tags=("bloodwork_scheduled",),
                           note=analysis)
    result = await update_contact(client, "loc123", change)

Fields are coerced like a push's (custom fields by ``fieldKey`` or id, never by display name);
tags go through the add/remove endpoints (never ``tags`` on the update, which would replace
them); a note whose create got no answer is looked for among the contact's notes before it is
sent again, so it is never added twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ghlsync.errors import (
    ConfigError,
    GHLSyncError,
    InvalidValueError,
    NotFoundError,
    OutcomeUnknownError,
)
from ghlsync.mapping import STANDARD_FIELDS, FieldDef, coerce_value, parse_mapping
from ghlsync.mapping.contact import compile_mapping

if TYPE_CHECKING:
    from ghlsync.client import AsyncGHLClient, GHLClient

_KEYS = {"id", "contact_id", "email", "location_id", "set", "add_tags", "remove_tags", "note"}


@dataclass(frozen=True)
class ContactChange:
    """What to change on one contact, named by ``contact_id`` or ``email``."""

    contact_id: str | None = None
    email: str | None = None
    set: Mapping[str, Any] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    note: str | None = None
    location_id: str | None = None

    def __post_init__(self) -> None:
        if bool(self.contact_id) == bool(self.email):
            raise ConfigError("name the contact by its id or by --email (one of them)")
        if not (self.set or self.add_tags or self.remove_tags or self.note):
            raise ConfigError(
                "nothing to change", hint="add --set, --add-tag, --remove-tag or --note"
            )
        both = set(self.add_tags) & set(self.remove_tags)
        if both:
            raise ConfigError(f"tags both added and removed: {', '.join(sorted(both))}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, where: str = "change") -> ContactChange:
        """One JSONL line's object: ``{"id"|"email", "set", "add_tags", "remove_tags", "note"}``."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: must be a JSON object")
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}",
                              hint=f"use {', '.join(sorted(_KEYS))}")  # fmt: skip
        values = data.get("set") or {}
        if not isinstance(values, Mapping):
            raise ConfigError(f"{where}: set must be an object of field -> value")
        return cls(
            contact_id=data.get("id") or data.get("contact_id"),
            email=data.get("email"),
            set=dict(values),
            add_tags=tuple(_tags(data.get("add_tags"), where)),
            remove_tags=tuple(_tags(data.get("remove_tags"), where)),
            note=data.get("note"),
            location_id=data.get("location_id"),
        )


def _tags(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise ConfigError(f"{where}: tags must be a list of non-empty strings")
    return [t.strip() for t in value]


@dataclass
class ChangeResult:
    contact_id: str | None
    ok: bool = True
    fields: list[str] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    note_id: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def _definitions(client: AsyncGHLClient, location_id: str) -> list[FieldDef]:
    raw = await client.custom_fields.list(location_id, model="contact")
    return [FieldDef.from_api(item) for item in raw if item.get("id")]


def _payload(values: Mapping[str, Any], definitions: list[FieldDef]) -> dict[str, Any]:
    """``--set`` values -> wire fields: standard fields normalised as a push would, custom
    fields by key or id coerced by their ``dataType``. ``ConfigError`` lists every problem."""
    standard = {k: v for k, v in values.items() if k in STANDARD_FIELDS}
    custom = {k: v for k, v in values.items() if k not in STANDARD_FIELDS}
    spec = parse_mapping(
        {
            "fields": {k: k for k in standard},
            "custom_fields": {k: f"__custom_{i}" for i, k in enumerate(custom)},
            "auto_match": False,
        },
        source="--set",
    )
    mapping = compile_mapping(spec, definitions, source="--set")
    record = dict(standard)
    record.update({f"__custom_{i}": v for i, v in enumerate(custom.values())})
    payload: dict[str, Any] = {}
    problems: list[str] = []
    for target in mapping.targets:
        raw = target.get(record)
        try:
            if target.custom is not None:
                value = coerce_value(target.custom, raw) if raw is not None else None
                payload.setdefault("customFields", []).append(
                    {"id": target.custom.id, "field_value": value}
                )
            else:
                payload[target.target] = target.coerce(raw)
        except InvalidValueError as exc:
            label = target.custom.key if target.custom else target.target
            problems.append(f"{label}: {exc.reason}")
    if problems:
        raise ConfigError("; ".join(problems), hint="fix the --set values; nothing was sent")
    return payload


async def update_contact(
    client: AsyncGHLClient,
    location_id: str,
    change: ContactChange,
    *,
    definitions: list[FieldDef] | None = None,
) -> ChangeResult:
    """Apply ``change`` (see the module docstring). API failures are in the result; bad
    values raise ``ConfigError`` before anything is sent."""
    location_id = change.location_id or location_id
    if change.set and definitions is None:
        definitions = await _definitions(client, location_id)
    payload = _payload(change.set, definitions or []) if change.set else {}
    result = ChangeResult(change.contact_id)
    try:
        contact_id = change.contact_id or await _by_email(client, location_id, change.email or "")
        result.contact_id = contact_id
        if payload:
            await client.contacts.update(
                contact_id,
                location_id=location_id,
                **{("custom_fields" if k == "customFields" else k): v for k, v in payload.items()},
            )
            result.fields = sorted(change.set)
        if change.add_tags:
            await client.contacts.add_tags(contact_id, change.add_tags, location_id=location_id)
            result.tags_added = list(change.add_tags)
        if change.remove_tags:
            await client.contacts.remove_tags(
                contact_id, change.remove_tags, location_id=location_id
            )
            result.tags_removed = list(change.remove_tags)
        if change.note:
            result.note_id = await _add_note(client, location_id, contact_id, change.note)
    except GHLSyncError as exc:
        result.ok = False
        result.error = str(exc)
    return result


async def _by_email(client: AsyncGHLClient, location_id: str, email: str) -> str:
    from ghlsync.mapping import normalize_email

    found = await client.contacts.find_duplicate(location_id, email=normalize_email(email))
    contact = found.get("contact") or {}
    if not contact.get("id"):
        raise NotFoundError(
            status=404,
            method="GET",
            path="/contacts/search/duplicate",
            messages=[f"no contact with email {email} in location {location_id}"],
        )
    return str(contact["id"])


async def _add_note(client: AsyncGHLClient, location_id: str, contact_id: str, body: str) -> str:
    try:
        note = await client.contacts.create_note(contact_id, body, location_id=location_id)
    except OutcomeUnknownError:
        # reconcile: the note may exist; never add it twice
        for existing in await client.contacts.list_notes(contact_id, location_id=location_id):
            if existing.get("body") == body:
                return str(existing.get("id"))
        note = await client.contacts.create_note(contact_id, body, location_id=location_id)
    return str(note.get("id"))


async def update_contacts(
    client: AsyncGHLClient, location_id: str, changes: Iterable[ContactChange]
) -> list[ChangeResult]:
    """``update_contact`` for each change, in order (custom fields read once per location)."""
    cache: dict[str, list[FieldDef]] = {}
    results = []
    for change in changes:
        where = change.location_id or location_id
        if change.set and where not in cache:
            cache[where] = await _definitions(client, where)
        try:
            results.append(
                await update_contact(client, where, change, definitions=cache.get(where, []))
            )
        except ConfigError as exc:
            results.append(ChangeResult(change.contact_id, ok=False, error=str(exc)))
    return results


def update_contact_sync(client: GHLClient, location_id: str, change: ContactChange) -> ChangeResult:
    """``update_contact`` with the blocking ``GHLClient`` (on its own event loop)."""
    return client.run(update_contact(client.async_client, location_id, change))


def read_changes(lines: Iterable[str], *, source: str = "changes") -> list[ContactChange]:
    """JSONL -> changes; ``ConfigError`` naming every bad line (nothing is sent)."""
    changes: list[ContactChange] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            changes.append(ContactChange.from_mapping(json.loads(text), where=f"line {number}"))
        except ValueError:
            problems.append(f"line {number}: not valid JSON")
        except ConfigError as exc:
            problems.append(exc.message)
    if problems:
        raise ConfigError(
            f"{source}: " + "; ".join(problems), hint="fix the lines; nothing was sent"
        )
    return changes


__all__ = [
    "ChangeResult",
    "ContactChange",
    "read_changes",
    "update_contact",
    "update_contact_sync",
    "update_contacts",
]
