"""What the admin API checks: seed options, rate limits, and entities written "behind the API".

An admin write skips HighLevel's validation on purpose (tests plant odd data), but it must not
leave the store in a state the routes cannot serve: an id that is not a string, a contact
whose ``email`` is a number (its index lower-cases it), timestamps of two JSON types in one
collection (every sort compares them). Those are refused with 422; anything else is stored
as sent.
"""

from __future__ import annotations

from typing import Any

from ghlsync.emulator.common import ApiError
from ghlsync.emulator.settings import parse_rate_limit
from ghlsync.emulator.state import Collection, ms_from_iso
from ghlsync.emulator.wire import number_field

#: the clock moves at most this far from the wall clock, either way (100 years): datetimes
#: past year 9999 cannot be written, and nobody tests a token a century long
CLOCK_RANGE_S = 100 * 365 * 86_400
#: seed sizes the admin API accepts (a bigger seed is a benchmark's job, through the CLI)
MAX_SEED_LOCATIONS = 1_000
MAX_SEED_RECORDS = 2_000_000
#: epoch ms of 1971-01-01 and 9000-01-01: the span a seed anchor may take
MIN_ANCHOR_MS = 31_536_000_000
MAX_ANCHOR_MS = 221_845_392_000_000
DAY_S = 86_400

TIMESTAMPS = ("dateAdded", "dateUpdated", "createdAt", "updatedAt")
#: contact fields the indexes, search and duplicate lookup read as text
CONTACT_TEXT = (
    "email",
    "phone",
    "firstName",
    "lastName",
    "contactName",
    "firstNameLowerCase",
    "lastNameLowerCase",
    "companyName",
    "businessName",
    "country",
    "city",
    "state",
    "address1",
    "postalCode",
    "source",
    "type",
    "timezone",
    "website",
    "assignedTo",
    "dateOfBirth",
)


def _timestamp_problem(name: str, value: Any, sample: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            ms_from_iso(value)
        except ValueError:
            return f"{name} must be an ISO-8601 date-time"
        if sample is not None and not isinstance(sample, str):
            return f"{name} must be epoch milliseconds, as the other records of this kind"
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if not -62_135_596_800_000 <= value <= 253_402_300_799_999:
            return f"{name} must be epoch milliseconds within years 1..9999"
        if sample is not None and not isinstance(sample, int):
            return f"{name} must be an ISO-8601 date-time, as the other records of this kind"
        return None
    return f"{name} must be an ISO-8601 date-time or epoch milliseconds"


def check_entity(kind: str, entity: dict[str, Any], collection: Collection) -> None:
    """422 listing what would break the store; nothing when ``entity`` can be stored."""
    problems: list[str] = []
    entity_id = entity.get("id")
    if not isinstance(entity_id, str) or not entity_id:
        problems.append("id must be a non-empty string")
    sample = next(iter(collection.items.values()), None)
    for name in TIMESTAMPS:
        value = entity.get(name)
        if kind == "contacts" and value is not None and not isinstance(value, str):
            # the contact indexes sort dateAdded/dateUpdated as ISO text
            problems.append(f"{name} must be an ISO-8601 date-time")
        elif name in entity:
            other = sample.get(name) if sample is not None and sample is not entity else None
            problem = _timestamp_problem(name, value, other)
            if problem:
                problems.append(problem)
    if kind == "contacts":
        problems += _contact_problems(entity)
    if problems:
        raise ApiError(422, problems)


def _contact_problems(contact: dict[str, Any]) -> list[str]:
    problems = [
        f"{name} must be a string"
        for name in CONTACT_TEXT
        if contact.get(name) is not None and not isinstance(contact[name], str)
    ]
    tags = contact.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags)
    ):
        problems.append("tags must be an array of strings")
    fields = contact.get("customFields")
    if fields is not None and (
        not isinstance(fields, list)
        or not all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in fields)
    ):
        problems.append("customFields must be an array of objects with a string id")
    return problems


# --------------------------------------------------------------------------- seeds
def whole(body: dict[str, Any], name: str, default: int, maximum: int = MAX_SEED_RECORDS) -> int:
    """A non-negative integer field of a seed body, or 422 naming it."""
    value: int = number_field(body, name, minimum=0, maximum=maximum, integer=True, default=default)
    return value


def anchor_ms(value: Any) -> int | None:
    """A seed anchor: an ISO date/time (``2026-06-30`` or ``2026-06-30T12:00:00Z``) or epoch
    ms, as epoch ms; None for None. Raises ``ValueError`` with a readable message.

    Seeded history reaches back from the anchor and HighLevel's data starts after 1970, so
    the anchor lies within 1971..9000 (``MIN_ANCHOR_MS``..``MAX_ANCHOR_MS``).
    """
    if value is None:
        return None
    found: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        found = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            text += "T00:00:00.000Z"
        try:
            found = ms_from_iso(text)
        except ValueError:
            found = None
    if found is None:
        raise ValueError(f"anchor must be an ISO date (2026-06-30) or date-time, not {value!r}")
    if not MIN_ANCHOR_MS <= found <= MAX_ANCHOR_MS:
        raise ValueError(f"anchor must lie within the years 1971..9000, not {value!r}")
    return found


def seed_options(body: dict[str, Any], previous: Any) -> Any:
    from ghlsync.emulator.seeding import SeedOptions

    counts = body.get("counts", previous.counts)
    if not isinstance(counts, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_SEED_RECORDS
        for v in counts.values()
    ):
        raise ApiError(
            422, [f"counts must be an object of kind: integer from 0 to {MAX_SEED_RECORDS}"]
        )
    try:
        anchor = anchor_ms(body["anchor"]) if "anchor" in body else previous.anchor_ms
    except ValueError as exc:
        raise ApiError(422, [str(exc)]) from None
    return SeedOptions(
        locations=whole(body, "locations", previous.locations, MAX_SEED_LOCATIONS),
        contacts=whole(body, "contacts", previous.contacts),
        opportunities=whole(body, "opportunities", previous.opportunities),
        seed=whole(body, "seed", previous.seed, 2**63 - 1),
        counts=dict(counts),
        history_days=previous.history_days,
        anchor_ms=anchor,
    )


# --------------------------------------------------------------------------- settings


def rate_limit(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return parse_rate_limit(value)
    if not isinstance(value, dict):
        raise ApiError(422, ["rateLimit must be a string (100/10s), an object or null"])
    count = number_field(value, "max", minimum=1, maximum=10**9, integer=True)
    window = number_field(value, "intervalMs", minimum=1, maximum=DAY_S * 1000, integer=True)
    if count is None or window is None:
        raise ApiError(422, ["rateLimit needs max and intervalMs"])
    return parse_rate_limit(f"{count}/{window}ms")
