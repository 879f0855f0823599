"""Event mapping, pure: which events are delivered, and the one upsert a burst becomes.

``classify`` decides at the door whether a message is delivered (identify, mapped track events)
or counted and dropped (page, screen, group, alias, unmapped track events: analytics-only events
never create empty contacts, seeds/001). ``plan_contact`` folds the traits of the queued events of
one identity, in order, onto what is known of that identity (``profile``), maps them ONCE through
the shared contact mapping (``ghlsync.mapping``: normalisation, custom fields, rejections), adds
what the event rules say (``source``, tags, consent -> ``dnd``) and returns one ``ContactPlan``:
the upsert's fields WITHOUT tags, and the tags to ADD afterwards with ``POST /contacts/{id}/tags``
(tags in an upsert replace the contact's tags, GHL-NOTES §4).

No I/O here: the worker does it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ghlsync.events.config import EventMapping, TrackRule
from ghlsync.mapping import ContactMapping, Problem, Rejected

#: kinds accepted and counted, never delivered (issue 14)
NOT_DELIVERED = frozenset({"page", "screen", "group", "alias"})

#: Segment spells some traits both ways; the mapping spec sees the snake_case one
_CANONICAL = {
    "firstName": "first_name",
    "lastName": "last_name",
    "postalCode": "postal_code",
    "companyName": "company",
    "createdAt": "created_at",
}
_ADDRESS_PARTS = {
    "street": "address",
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
class ContactPlan:
    """One upsert for one identity: ``fields`` (wire spelling), then ``tags`` added.

    ``problems`` non-empty: nothing can be sent (no email or phone, an invalid value); the
    events go to the dead-letter queue with these reasons. ``traits`` is what to remember for
    the identity once delivered.
    """

    location_id: str
    fields: dict[str, Any]
    tags: list[str]
    traits: dict[str, Any]
    problems: tuple[Problem, ...] = ()

    @property
    def is_deliverable(self) -> bool:
        return not self.problems

    def request(self) -> dict[str, Any]:
        """The upsert body as it goes on the wire (for the debugger and logs)."""
        return {"locationId": self.location_id, **self.fields}

    def reasons(self) -> str:
        return "; ".join(f"{p.field}: {p.detail}" for p in self.problems)


def canonical_traits(traits: Mapping[str, Any]) -> dict[str, Any]:
    """Segment traits with one spelling per field and an ``address`` object spread out."""
    out: dict[str, Any] = {}
    address = traits.get("address")
    if isinstance(address, Mapping):
        for part, name in _ADDRESS_PARTS.items():
            if address.get(part) not in (None, ""):
                out[name] = address[part]
    for key, value in traits.items():
        if key == "address" and isinstance(value, Mapping):
            continue
        if value is not None:
            out[_CANONICAL.get(key, key)] = value
    return out


def plan_contact(
    location_id: str,
    events: Sequence[Mapping[str, Any]],
    mapping: EventMapping,
    contact: ContactMapping,
    profile: Mapping[str, Any] | None = None,
) -> ContactPlan:
    """Fold ``events`` (wire messages of one identity, oldest first) into one ``ContactPlan``.

    Later events win trait by trait; tags accumulate; ``profile`` (the traits delivered before
    for this identity) fills what the events do not say, so a ``Lead Generated`` track that
    carries no email still reaches the contact its earlier ``identify`` created.
    """
    traits: dict[str, Any] = dict(profile or {})
    extra: dict[str, Any] = {}
    tags: list[str] = []
    for message in events:
        kind = message.get("type")
        context = message.get("context") or {}
        if isinstance(context, Mapping) and isinstance(context.get("traits"), Mapping):
            traits.update(canonical_traits(context["traits"]))
        if kind == "identify" and isinstance(message.get("traits"), Mapping):
            traits.update(canonical_traits(message["traits"]))
        if kind == "track":
            rule = mapping.track.get(str(message.get("event", "")))
            properties = message.get("properties") or {}
            if isinstance(properties, Mapping):
                identity_props = {k: v for k, v in properties.items() if k in ("email", "phone")}
                traits.update(canonical_traits(identity_props))
            if rule is not None:
                _apply_rule(rule, message, extra, tags)
        if mapping.consent is not None and isinstance(context, Mapping):
            _apply_consent(context, mapping, extra)
    mapped = contact.map(traits)
    if isinstance(mapped, Rejected):
        return ContactPlan(location_id, {}, [], traits, mapped.problems)
    fields = {**mapped.fields, **extra}
    return ContactPlan(location_id, fields, _unique([*sorted(mapped.tags), *tags]), traits)


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
    consent_rule = mapping.consent
    consent = context.get("consent")
    if consent_rule is None or not isinstance(consent, Mapping):
        return
    preferences = consent.get("categoryPreferences")
    if not isinstance(preferences, Mapping):
        return
    granted = preferences.get(consent_rule.category)
    if not isinstance(granted, bool):
        return  # category not stated: DND untouched
    fields["dnd"] = not granted
    if consent_rule.dnd_channels:
        status = "inactive" if granted else "active"
        fields["dndSettings"] = {ch: {"status": status} for ch in consent_rule.dnd_channels}


def _unique(tags: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(t for t in tags if t))
