"""``POST /contacts/search`` as a function of a location and a request body (no HTTP);
the filters are compiled in ``filters``.

Filters (``{field, operator, value}`` and ``{group: AND|OR, filters}``), one sort field with id
as tie-breaker, ``page``/``pageLimit`` inside the 10,000-record window, ``searchAfter``
cursors. Common queries use the location's indexes (``ContactCollection``) and never scan: a
sort on ``dateAdded``/``dateUpdated`` (with a ``range`` on it and a cursor, found with
``bisect``) or on any other field (a sort index built on first use), ``eq`` on email, phone,
id, tags, country and custom fields. A page walks the sort index and stops after ``pageLimit``
matches; the total of a filter is counted once and then kept up to date by every write.
"""

from __future__ import annotations

import bisect
import heapq
import json
from collections.abc import Callable, Iterable
from typing import Any

from ghlsync.emulator.common import ApiError
from ghlsync.emulator.contacts.filters import Query, field_getter, in_ranges
from ghlsync.emulator.contacts.model import DATE_FIELDS, as_iso, search_row
from ghlsync.emulator.state import ContactCollection, Entity, LocationState, ms_from_iso

MAX_WINDOW = 10_000
MAX_PAGE_LIMIT = 500
SEARCH_FIELDS = {"locationId", "page", "pageLimit", "searchAfter", "filters", "sort", "query"}


def _sort_spec(body: Entity) -> tuple[str, bool]:
    sort = body.get("sort")
    if sort in (None, []):
        return "dateAdded", True
    if isinstance(sort, dict):
        sort = [sort]
    if not isinstance(sort, list) or not isinstance(sort[0], dict):
        raise ApiError(422, ["sort must be an array of {field, direction}"])
    if len(sort) > 1:
        raise ApiError(422, ["sort supports one field (ties are broken by id)"])
    field = sort[0].get("field")
    direction = str(sort[0].get("direction", "desc")).lower()
    if (
        direction not in ("asc", "desc")
        or not isinstance(field, str)
        or field_getter(field) is None
    ):
        raise ApiError(422, ["sort field must be a contact field and direction asc or desc"])
    return field, direction == "desc"


def _cursor_value(field: str, contact: Entity) -> Any:
    getter = field_getter(field)
    value: Any = contact.get(field) if getter is None else getter(contact)
    if field in DATE_FIELDS:
        return ms_from_iso(value) if value else 0
    return value


def search_contacts_in(
    location: LocationState, body: Entity, *, now: float = 0.0, index_delay_s: float = 0.0
) -> Entity:
    """Run one search over a location; returns the response body (no auth, no HTTP).

    With ``index_delay_s`` > 0, contacts written less than that long before ``now`` are shown
    as search last indexed them: a new contact is missing, an updated one shows its previous
    version (GHL-NOTES: "writes appear in search after a few seconds").
    """
    messages: list[str] = []
    page_limit = body.get("pageLimit")
    if not isinstance(page_limit, int) or isinstance(page_limit, bool):
        messages.append("pageLimit must be an integer number")
    elif not 1 <= page_limit <= MAX_PAGE_LIMIT:
        messages.append(f"pageLimit must not be greater than {MAX_PAGE_LIMIT} or less than 1")
    page = body.get("page")
    search_after = body.get("searchAfter")
    if page is not None and (not isinstance(page, int) or isinstance(page, bool) or page < 1):
        messages.append("page must be a positive integer")
    if search_after is not None and (not isinstance(search_after, list) or len(search_after) != 2):
        messages.append("searchAfter must be an array of [sort value, id]")
    if messages:
        raise ApiError(422, messages)
    assert isinstance(page_limit, int)
    if search_after is not None and page not in (None, 1):
        raise ApiError(422, ["page must be omitted when searchAfter is given"])
    offset = 0 if search_after is not None else ((page or 1) - 1) * page_limit
    if search_after is None and offset + page_limit > MAX_WINDOW:
        raise ApiError(
            422,
            [
                f"page * pageLimit must not exceed {MAX_WINDOW}: use searchAfter (the last "
                "record's searchAfter value) to read past the first 10,000 records"
            ],
        )
    field, descending = _sort_spec(body)
    query = Query(location, body)
    contacts = location.collection("contacts")
    assert isinstance(contacts, ContactCollection)
    cache_key = json.dumps([body.get("filters"), body.get("query")], sort_keys=True, default=str)
    known_total: int | None = None
    if _needs_matching(query, field):
        # more than one index answers: find the matches once (kept up to date by writes),
        # then page through them like an indexed filter
        pool = query.candidates
        counting = query.counting

        text_only = query.text_only

        def compute() -> set[str]:
            items = contacts.items
            if text_only is not None:
                text, haystacks = text_only
                return {key for key, hay in haystacks.items() if text in hay}
            if pool is not None:
                return {key for key in pool if counting(items[key])}
            return {key for key, contact in items.items() if counting(contact)}

        matches, known_total = contacts.matching(cache_key, query.full, compute)
        if matches is not None:
            query.candidates, query.predicate, query.ranges = matches, None, {}
    candidates = query.candidates
    index = None
    # a few candidates (an email, a phone, a rare tag; at most 0.2% of the contacts): sort
    # them; otherwise walk a sort index (500 matches at 0.2% are 250,000 steps, ~15 ms)
    if candidates is None or len(candidates) * 500 > len(contacts):
        index = _sort_index(contacts, field)
    if index is None:
        found, total = _search_scan(
            contacts, query, field, descending, search_after, offset, page_limit
        )
    else:
        found, total = _search_indexed(
            contacts, query, field, index, descending, search_after, offset, page_limit
        )
    if known_total is not None:
        total = known_total
    if index_delay_s > 0:
        found, total = _as_indexed(contacts, found, total, now - index_delay_s, query.full)
    records = []
    businesses = {
        str(item["id"]): str(item.get("name") or "")
        for item in location.collection("businesses")
        if "id" in item
    }
    for contact in found:
        row = search_row(contact, businesses)
        row["searchAfter"] = [_cursor_value(field, contact), contact["id"]]
        records.append(row)
    # HighLevel's answer is {contacts, total, traceId} (GHL-NOTES §4, hl-docs#289); the
    # caller adds traceId
    return {"contacts": records, "total": total}


def _as_indexed(
    contacts: ContactCollection,
    found: list[Entity],
    total: int,
    cutoff: float,
    matches: Callable[[Entity], bool],
) -> tuple[list[Entity], int]:
    """The page and total as the lagging index shows them: a contact written after ``cutoff``
    is missing when new and shows its previous version (if that matched) when updated."""
    recent = contacts.recent
    for contact_id in [key for key, (at, _) in recent.items() if at <= cutoff]:
        del recent[contact_id]
    for contact_id, (_, before) in recent.items():
        current = contacts.items.get(contact_id)
        if current is None:  # deleted since: deletes reach search at once
            continue
        now_matches = matches(current)
        was_matching = before is not None and matches(before)
        total += int(was_matching) - int(now_matches)
    shown: list[Entity] = []
    for contact in found:
        pending = recent.get(contact["id"])
        if pending is None:
            shown.append(contact)
        elif pending[1] is not None and matches(pending[1]):
            shown.append(pending[1])
    return shown, max(total, 0)


def _needs_matching(query: Query, field: str) -> bool:
    """Whether no single index answers the query's total (a residual test, or an index
    filter combined with a date range, or a range on another field than the sort)."""
    if query.predicate is not None:
        return True
    ranges = set(query.ranges)
    if query.candidates is not None:
        return bool(ranges)
    return bool(ranges - {field}) if field in DATE_FIELDS else bool(ranges)


def _sort_key(field: str) -> Callable[[Entity], tuple[Any, ...]]:
    """A contact's key in the sort index of a non-date ``field`` (as ``_search_scan`` sorts)."""
    getter = field_getter(field)
    assert getter is not None

    def key(contact: Entity) -> tuple[Any, ...]:
        value = getter(contact)
        return (0 if value is None else 1, _sortable(value), contact["id"])

    return key


def _sort_index(contacts: ContactCollection, field: str) -> list[tuple[Any, ...]] | None:
    if field == "dateUpdated":
        return contacts.by_updated
    if field == "dateAdded":
        return contacts.by_added
    return contacts.sort_index(field, _sort_key(field))


def _cursor_key(field: str, search_after: list[Any]) -> tuple[Any, ...]:
    """``searchAfter`` ([sort value, id]) as a key of the field's sort index."""
    value, entity_id = search_after[0], str(search_after[1])
    try:
        if field in DATE_FIELDS:
            return (as_iso(value), entity_id)
        return (0 if value is None else 1, _sortable(value), entity_id)
    except (ValueError, TypeError):
        raise ApiError(422, ["searchAfter must be [sort value, id] as returned"]) from None


def _search_indexed(
    contacts: ContactCollection,
    query: Query,
    field: str,
    index: list[tuple[Any, ...]],
    descending: bool,
    search_after: list[Any] | None,
    offset: int,
    limit: int,
) -> tuple[list[Entity], int]:
    """A page from a sort index (entries end with the contact id): walk from the cursor,
    keep the matches, stop after ``limit``. The total is exact when one index answers the
    query (else the caller has it from ``ContactCollection.matching``)."""
    ranges = dict(query.ranges)
    lo, hi = 0, len(index)
    own = ranges.pop(field, None) if field in DATE_FIELDS else None
    if own is not None:
        low, low_strict, high, high_strict = own
        if low is not None:
            lo = (bisect.bisect_right if low_strict else bisect.bisect_left)(
                index, (low, "\uffff" if low_strict else "")
            )
        if high is not None:
            hi = (bisect.bisect_left if high_strict else bisect.bisect_right)(
                index, (high, "" if high_strict else "\uffff")
            )
    start, stop = lo, max(lo, hi)
    if search_after is not None:
        key = _cursor_key(field, search_after)
        try:
            if descending:
                stop = max(start, min(stop, bisect.bisect_left(index, key, start, stop)))
            else:
                start = min(stop, max(start, bisect.bisect_right(index, key, start, stop)))
        except TypeError:
            raise ApiError(422, ["searchAfter must be [sort value, id] as returned"]) from None
    items = contacts.items
    candidates = query.candidates
    predicate = query.predicate
    if ranges:
        base = predicate

        def predicate(contact: Entity) -> bool:
            return in_ranges(contact, ranges) and (base is None or base(contact))

    found: list[Entity] = []
    skipped = 0
    positions = range(stop - 1, start - 1, -1) if descending else range(start, stop)
    for position in positions:
        entity_id = index[position][-1]
        if candidates is not None and entity_id not in candidates:
            continue
        contact = items[entity_id]
        if predicate is not None and not predicate(contact):
            continue
        if skipped < offset:
            skipped += 1
            continue
        found.append(contact)
        if len(found) >= limit:
            break
    total = max(hi - lo, 0) if candidates is None else len(candidates)
    return found, total


def _search_scan(
    contacts: ContactCollection,
    query: Query,
    field: str,
    descending: bool,
    search_after: list[Any] | None,
    offset: int,
    limit: int,
) -> tuple[list[Entity], int]:
    pool: Iterable[Entity]
    if query.candidates is not None:
        pool = [contacts.items[i] for i in query.candidates if i in contacts.items]
    else:
        pool = contacts.items.values()
    predicate = query.predicate
    ranges = query.ranges
    matches = [
        contact
        for contact in pool
        if (not ranges or in_ranges(contact, ranges)) and (predicate is None or predicate(contact))
    ]

    dates = field in DATE_FIELDS

    def key(contact: Entity) -> tuple[int, Any, str]:
        if dates:  # ISO-8601 stamps of one format sort as their instants do
            return (1, contact.get(field) or "", contact["id"])
        value = _cursor_value(field, contact)
        return (0 if value is None else 1, _sortable(value), contact["id"])

    total = len(matches)
    if search_after is not None:
        value = search_after[0]
        try:
            if dates:
                after: tuple[int, Any, str] = (1, as_iso(value), str(search_after[1]))
            else:
                after = (0 if value is None else 1, _sortable(value), str(search_after[1]))
            if descending:
                matches = [c for c in matches if key(c) < after]
            else:
                matches = [c for c in matches if key(c) > after]
        except (ValueError, TypeError):
            raise ApiError(422, ["searchAfter must be [sort value, id] as returned"]) from None
    wanted = offset + limit
    if len(matches) > 4 * wanted:
        # one page of many matches: select it instead of sorting them all
        select = heapq.nlargest if descending else heapq.nsmallest
        return select(wanted, matches, key=key)[offset:], total
    matches.sort(key=key, reverse=descending)
    return matches[offset : offset + limit], total


def _sortable(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return value
