"""Event mapping, pure: which events are delivered, and the one upsert a burst becomes.

``classify`` decides at the door whether a message is delivered (identify, mapped track events)
or counted and dropped (page, screen, group, alias, unmapped track events: analytics-only events
never create empty contacts, seeds/001). ``plan_contact`` folds the queued events of one identity,
in order, onto what is known of that identity (``profile``) and returns one ``ContactPlan``: the
upsert's fields WITHOUT tags, and the tags to ADD afterwards with ``POST /contacts/{id}/tags``
(tags in an upsert replace the contact's tags, GHL-NOTES §4).

No I/O here: the worker does it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ghlsync.client.resources._base import to_wire
from ghlsync.errors import InvalidValueError
from ghlsync.events.config import EventMapping, TrackRule
from ghlsync.mapping import normalize_country, normalize_email, normalize_phone

#: kinds accepted and counted, never delivered (issue 14)
NOT_DELIVERED = frozenset({"page", "screen", "group", "alias"})

_ADDRESS_PARTS = {
    "street": "address1",
    "city": "city",
    "state": "state",
    "postal_code": "postal_code",
    "postalCode": "postal_code",
    "country": "country",
}


def classify(kind: str, message: Mapping[str, Any], mapping: EventMapping) -> str | None:
    """``None`` if the message is delivered, else the reason it is counted and dropped."""
    if kind in NOT_DELIVERED:
        return f"{kind} calls are counted, not delivered"
    if kind == "identify":
        return None if mapping.identify == "upsert" else "identify is mapped to drop"
    if kind == "track":
        name = str(message.get("event", ""))
        rule = mapping.track.get(name)
        if rule is None:
            return "track event not in the mapping"
        return None if rule.action == "upsert" else "track event mapped to drop"
    return f"unknown message type {kind!r}"


@dataclass
class Rejection:
    """A value left out of the upsert (bad email, phone...) or an event that could not apply."""

    message_id: str
    field: str
    reason: str


@dataclass
class ContactPlan:
    """One upsert for one identity: ``fields`` (upsert keyword arguments), then ``tags`` added."""

    location_id: str
    fields: dict[str, Any]
    tags: list[str]
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def is_deliverable(self) -> bool:
        """An upsert needs an email or a phone to match the contact by (seeds/001 "422")."""
        return bool(self.fields.get("email") or self.fields.get("phone"))

    def request(self) -> dict[str, Any]:
        """The upsert body as it goes on the wire (for the debugger and logs)."""
        return to_wire({"location_id": self.location_id, **self.fields})


def plan_contact(
    location_id: str,
    events: Sequence[Mapping[str, Any]],
    mapping: EventMapping,
    profile: Mapping[str, Any] | None = None,
) -> ContactPlan:
    """Fold ``events`` (wire messages of one identity, oldest first) into one ``ContactPlan``.

    Later events win field by field; tags accumulate; ``profile`` (the fields delivered before
    for this identity) fills what the events do not say, so a ``Lead Generated`` track that
    carries no email still reaches the contact its earlier ``identify`` created.
    """
    fields: dict[str, Any] = dict(profile or {})
    tags: list[str] = []
    rejections: list[Rejection] = []
    for message in events:
        message_id = str(message.get("messageId", ""))
        kind = message.get("type")
        context = message.get("context") or {}
        traits: dict[str, Any] = {}
        if isinstance(context, Mapping) and isinstance(context.get("traits"), Mapping):
            traits.update(context["traits"])
        if kind == "identify" and isinstance(message.get("traits"), Mapping):
            traits.update(message["traits"])
        rule: TrackRule | None = None
        if kind == "track":
            rule = mapping.track.get(str(message.get("event", "")))
            properties = message.get("properties") or {}
            if isinstance(properties, Mapping):
                traits.update({k: v for k, v in properties.items() if k in mapping.traits})
        _apply_traits(traits, mapping, fields, rejections, message_id)
        if rule is not None:
            _apply_rule(rule, message, fields, tags)
        if mapping.consent is not None and isinstance(context, Mapping):
            _apply_consent(context, mapping, fields)
    return ContactPlan(location_id, fields, _unique(tags), rejections)


def _apply_traits(
    traits: Mapping[str, Any],
    mapping: EventMapping,
    fields: dict[str, Any],
    rejections: list[Rejection],
    message_id: str,
) -> None:
    custom: dict[tuple[str, str], Any] = {
        (("id", c["id"]) if "id" in c else ("key", c["key"])): c["field_value"]
        for c in fields.get("custom_fields", [])
    }
    for trait, value in traits.items():
        if value is None:
            continue
        if trait == "address" and isinstance(value, Mapping):
            for part, part_target in _ADDRESS_PARTS.items():
                if value.get(part) not in (None, ""):
                    _set(fields, part_target, value[part], mapping, rejections, message_id)
            continue
        target = mapping.traits.get(trait)
        if target is not None:
            _set(fields, target, value, mapping, rejections, message_id)
        elif trait in mapping.custom_fields:
            spec = mapping.custom_fields[trait]
            address = ("id", spec.id) if spec.id else ("key", spec.key or trait)
            custom[address] = value
    if custom:
        fields["custom_fields"] = [{k: v, "field_value": value} for (k, v), value in custom.items()]


def _set(
    fields: dict[str, Any],
    target: str,
    value: Any,
    mapping: EventMapping,
    rejections: list[Rejection],
    message_id: str,
) -> None:
    if isinstance(value, Mapping | list):
        rejections.append(Rejection(message_id, target, "is not a single value"))
        return
    text = str(value)
    try:
        if target == "email":
            text = normalize_email(text)
        elif target == "phone":
            text = normalize_phone(text, default_region=mapping.default_country)
        elif target == "country":
            text = normalize_country(text)
    except InvalidValueError as exc:
        rejections.append(Rejection(message_id, target, exc.reason))
        return
    if text.strip():
        fields[target] = text.strip()


def _apply_rule(
    rule: TrackRule, message: Mapping[str, Any], fields: dict[str, Any], tags: list[str]
) -> None:
    properties = message.get("properties") or {}
    if not isinstance(properties, Mapping):
        properties = {}
    source = next(
        (str(properties[p]) for p in rule.source_from if properties.get(p) not in (None, "")),
        rule.source_default,
    )
    if source:
        fields["source"] = source
    tags.extend(rule.tags)
    for name in rule.tags_from:
        value = properties.get(name)
        if isinstance(value, str) and value.strip():
            tags.append(value.strip())
        elif isinstance(value, list):
            tags.extend(str(v).strip() for v in value if str(v).strip())


def _apply_consent(
    context: Mapping[str, Any], mapping: EventMapping, fields: dict[str, Any]
) -> None:
    assert mapping.consent is not None
    consent = context.get("consent")
    if not isinstance(consent, Mapping):
        return
    preferences = consent.get("categoryPreferences")
    if not isinstance(preferences, Mapping):
        return
    granted = preferences.get(mapping.consent.category)
    if not isinstance(granted, bool):
        return  # category not stated: DND untouched
    fields["dnd"] = not granted
    if mapping.consent.dnd_channels:
        status = "inactive" if granted else "active"
        fields["dnd_settings"] = {ch: {"status": status} for ch in mapping.consent.dnd_channels}


def _unique(tags: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        seen.setdefault(tag, None)
    return list(seen)


def profile_after(plan: ContactPlan) -> dict[str, Any]:
    """What to remember for the identity once ``plan`` is delivered: its identifying fields."""
    keep = ("email", "phone", "first_name", "last_name", "name", "company_name")
    return {k: plan.fields[k] for k in keep if k in plan.fields}
