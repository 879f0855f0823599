"""``POST /contacts/search`` as a function of a location and a request body (no HTTP).

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
from ghlsync.emulator.contact_model import (
    DATE_FIELDS,
    as_iso,
    full_name,
    normalize_phone,
    search_row,
)
from ghlsync.emulator.state import (
    ContactCollection,
    Entity,
    LocationState,
    ms_from_iso,
    normalize_email_key,
)

MAX_WINDOW = 10_000
MAX_PAGE_LIMIT = 500
SEARCH_FIELDS = {"locationId", "page", "pageLimit", "searchAfter", "filters", "sort", "query"}
OPERATORS = ("eq", "not_eq", "contains", "not_contains", "exists", "not_exists", "range")
#: filter values are at most 75 characters (GHL-NOTES §4, hoopai copy of HighLevel's doc)
MAX_VALUE_LENGTH = 75
#: ``contains``/``not_contains`` take no special characters (GHL-NOTES §4). Which characters
#: count as special is unconfirmed: letters, digits, spaces and ``@ . - _ +`` (emails, phones,
#: names) are accepted, everything else is refused.
CONTAINS_PUNCTUATION = frozenset("@.-_+ ")


def _special(value: str) -> bool:
    return any(not (char.isalnum() or char in CONTAINS_PUNCTUATION) for char in value)


class _Query:
    """A compiled ``POST /contacts/search`` body."""

    def __init__(self, location: LocationState, body: Entity) -> None:
        self.location = location
        self.messages: list[str] = []
        self.ranges: dict[str, tuple[str | None, bool, str | None, bool]] = {}
        self.candidates: set[str] | None = None
        filters = body.get("filters") or []
        if not isinstance(filters, list):
            raise ApiError(422, ["filters must be an array"])
        residual: list[Callable[[Entity], bool]] = []
        #: every filter as a predicate, indexed ones included (to keep totals up to date)
        everything: list[Callable[[Entity], bool]] = []
        #: id(filter) -> the exact test of an email/phone/id filter answered by its index
        self.exact_tests: dict[int, Callable[[Entity], bool]] = {}
        for index, item in enumerate(filters):
            compiled = self._compile(item, f"filters.{index}")
            if not self._index_hint(item):
                residual.append(compiled)
            everything.append(self.exact_tests.get(id(item), compiled))
        query = body.get("query")
        #: (text, text index) when the query is text and nothing else
        self.text_only: tuple[str, dict[str, str]] | None = None
        #: the full predicate for counting: like ``full`` but the text test reads the index
        counting = list(everything)
        if query is not None:
            if not isinstance(query, str) or len(query) > 75:
                self.messages.append("query must be a string of at most 75 characters")
            elif query.strip():
                text = query.strip().lower()
                contacts = location.collection("contacts")
                assert isinstance(contacts, ContactCollection)
                haystacks = contacts.text_index(haystack)
                residual.append(lambda contact: text in haystacks[contact["id"]])
                if not everything:  # text alone: matches are found on the text index only
                    self.text_only = (text, haystacks)
                counting.append(residual[-1])
                everything.append(text_query(text))
        if self.messages:
            raise ApiError(422, self.messages)
        self.predicate: Callable[[Entity], bool] | None = None
        if residual:
            self.predicate = residual[0] if len(residual) == 1 else _all(residual)
        #: every filter and the text, read from the contact itself: totals follow writes with it
        self.full: Callable[[Entity], bool] = _all(everything) if everything else _always
        self.counting: Callable[[Entity], bool] = _all(counting) if counting else _always

    def _index_hint(self, item: Any) -> bool:
        """Take an indexable top-level filter out of the predicate; True when taken."""
        if not isinstance(item, dict) or "group" in item:
            return False
        field, operator, value = item.get("field"), item.get("operator"), item.get("value")
        if field in DATE_FIELDS and operator == "range" and isinstance(value, dict):
            if field in self.ranges or set(value) - {"gt", "gte", "lt", "lte"}:
                return False
            low = value.get("gte", value.get("gt"))
            high = value.get("lte", value.get("lt"))
            try:
                self.ranges[field] = (
                    None if low is None else as_iso(low),
                    "gt" in value,
                    None if high is None else as_iso(high),
                    "lt" in value,
                )
            except (ValueError, TypeError):
                self.messages.append(f"{field} range values must be dates")
            return True
        if operator == "eq" and field in ("email", "phone", "id") and isinstance(value, str):
            contacts = self.location.collection("contacts")
            assert isinstance(contacts, ContactCollection)
            exact: Callable[[Entity], bool]
            if field == "email":
                key = normalize_email_key(value)
                ids = set(contacts.by_email.get(key, ()))
                exact = lambda c: normalize_email_key(c.get("email") or "") == key  # noqa: E731
            elif field == "phone":
                try:
                    phone = normalize_phone(value, self.location.record.get("country"))
                except ApiError:
                    phone = value
                ids = set(contacts.by_phone.get(phone, ()))
                exact = lambda c: c.get("phone") == phone  # noqa: E731
            else:
                ids = {value} if value in contacts else set()
                exact = lambda c: c["id"] == value  # noqa: E731
            # the index's notion of equality, for the totals kept up to date on writes
            self.exact_tests[id(item)] = exact
            self._narrow(ids)
            return True
        if operator == "eq" and isinstance(field, str) and value is not None:
            name = field
            if field.startswith("customField."):
                name = "customFields." + field.split(".", 1)[1]
            contacts = self.location.collection("contacts")
            assert isinstance(contacts, ContactCollection)
            found = contacts.ids_with(name, _normal_value(field, value))
            if found is not None:
                self._narrow(found)
                return True
        return False

    def _narrow(self, ids: set[str]) -> None:
        # the index's own set (never mutated here) or a new intersection
        self.candidates = ids if self.candidates is None else self.candidates & ids

    def _compile(self, item: Any, where: str) -> Callable[[Entity], bool]:
        if not isinstance(item, dict):
            self.messages.append(f"{where} must be an object")
            return _never
        if "group" in item:
            group = str(item.get("group", "")).upper()
            parts = item.get("filters")
            if group not in ("AND", "OR") or not isinstance(parts, list):
                self.messages.append(f"{where}.group must be AND or OR with a filters array")
                return _never
            compiled = [self._compile(part, f"{where}.filters.{i}") for i, part in enumerate(parts)]
            return _all(compiled) if group == "AND" else _any(compiled)
        field, operator, value = item.get("field"), item.get("operator"), item.get("value")
        if not isinstance(field, str) or not field:
            self.messages.append(f"{where}.field should not be empty")
            return _never
        if operator not in OPERATORS:
            self.messages.append(f"{where}.operator must be one of: {', '.join(OPERATORS)}")
            return _never
        getter = _getter(field)
        if getter is None:
            self.messages.append(f"{where}.field {field} is not supported")
            return _never
        if not self._valid_value(operator, item, where):
            return _never
        if operator == "exists":
            return lambda c: _present(getter(c))
        if operator == "not_exists":
            return lambda c: not _present(getter(c))
        if operator == "range":
            return self._range(getter, field, value, where)
        if value is None:
            self.messages.append(f"{where}.value should not be empty")
            return _never
        wanted = _normal_value(field, value)
        if operator in ("eq", "not_eq"):
            test: Callable[[Entity], bool] = lambda c: _equals(getter(c), wanted)  # noqa: E731
        else:
            test = lambda c: _contains(getter(c), wanted)  # noqa: E731
        if operator.startswith("not_"):
            return lambda c: not test(c)
        return test

    def _valid_value(self, operator: str, item: dict[str, Any], where: str) -> bool:
        """HighLevel's value rules (GHL-NOTES §4): no value with ``exists``/``not_exists``,
        at most 75 characters, no special characters in ``contains``/``not_contains``."""
        value = item.get("value")
        if operator in ("exists", "not_exists"):
            if value is not None:
                self.messages.append(f"{where}.value must not be given with operator {operator}")
                return False
            return True
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        texts = [text for text in texts if isinstance(text, str)]
        if any(len(text) > MAX_VALUE_LENGTH for text in texts):
            self.messages.append(
                f"{where}.value must be shorter than or equal to {MAX_VALUE_LENGTH} characters"
            )
            return False
        if operator in ("contains", "not_contains") and any(_special(text) for text in texts):
            self.messages.append(
                f"{where}.value must not contain special characters with operator {operator}"
            )
            return False
        return True

    def _range(
        self, getter: Callable[[Entity], Any], field: str, value: Any, where: str
    ) -> Callable[[Entity], bool]:
        if not isinstance(value, dict) or not value or set(value) - {"gt", "gte", "lt", "lte"}:
            self.messages.append(f"{where}.value must be an object with gt, gte, lt or lte")
            return _never
        try:
            bounds = {key: _normal_value(field, raw, for_range=True) for key, raw in value.items()}
        except (ValueError, TypeError):
            self.messages.append(f"{where}.value has an invalid bound")
            return _never

        def test(contact: Entity) -> bool:
            current = getter(contact)
            if current is None or current == "":
                return False
            try:
                if "gt" in bounds and not current > bounds["gt"]:
                    return False
                if "gte" in bounds and not current >= bounds["gte"]:
                    return False
                if "lt" in bounds and not current < bounds["lt"]:
                    return False
                return not ("lte" in bounds and not current <= bounds["lte"])
            except TypeError:
                return False

        return test


def _normal_value(field: str, value: Any, *, for_range: bool = False) -> Any:
    if field in DATE_FIELDS or field == "dateOfBirth":
        return as_iso(value)
    if isinstance(value, str):
        return value if for_range else value.lower()
    if isinstance(value, list):
        return [item.lower() if isinstance(item, str) else item for item in value]
    return value


_CONTACT_FIELDS = {
    "id",
    "email",
    "phone",
    "firstName",
    "lastName",
    "source",
    "country",
    "dnd",
    "companyName",
    "address1",
    "city",
    "state",
    "postalCode",
    "website",
    "timezone",
    "assignedTo",
    "type",
    "businessId",
    "gender",
    "tags",
    "dateAdded",
    "dateUpdated",
    "dateOfBirth",
}


def _getter(field: str) -> Callable[[Entity], Any] | None:
    if field in _CONTACT_FIELDS:
        if field == "type":
            return lambda c: c.get("type", "lead")
        if field == "dnd":
            return lambda c: c.get("dnd", False)
        return lambda c: c.get(field)
    if field in ("name", "contactName", "fullNameLowerCase"):
        return lambda c: full_name(c) or None
    if field in ("firstNameLowerCase", "lastNameLowerCase"):
        source = field.removesuffix("LowerCase")
        return lambda c: (c.get(source) or "").lower() or None
    if field == "address":  # the search rows' name of address1 (hl-docs#314)
        return lambda c: c.get("address1")
    if field.startswith(("customFields.", "customField.")):
        field_id = field.split(".", 1)[1]

        def custom(contact: Entity) -> Any:
            for item in contact.get("customFields") or ():
                if item["id"] == field_id:
                    return item["value"]
            return None

        return custom
    return None


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _equals(current: Any, wanted: Any) -> bool:
    if isinstance(current, list):
        lowered = [_lower(item) for item in current]
        if isinstance(wanted, list):
            return any(item in lowered for item in wanted)
        return wanted in lowered
    if isinstance(wanted, list):
        return _lower(current) in wanted
    return bool(_lower(current) == wanted)


def _contains(current: Any, wanted: Any) -> bool:
    if current is None:
        return False
    needles = wanted if isinstance(wanted, list) else [wanted]
    haystacks = current if isinstance(current, list) else [current]
    for hay in haystacks:
        text = str(hay).lower()
        if any(str(needle) in text for needle in needles):
            return True
    return False


def haystack(contact: Entity) -> str:
    """What ``query`` text searches, lower-cased: names, email, phone, company, full name."""
    parts = [str(contact.get(key) or "") for key in TEXT_FIELDS]
    parts.append(full_name(contact))
    return "\x00".join(parts).lower()


TEXT_FIELDS = ("firstName", "lastName", "email", "phone", "companyName")


def text_query(text: str) -> Callable[[Entity], bool]:
    def test(contact: Entity) -> bool:
        for key in ("firstName", "lastName", "email", "phone", "companyName"):
            value = contact.get(key)
            if value and text in value.lower():
                return True
        return text in full_name(contact).lower()

    return test


def _all(tests: list[Callable[[Entity], bool]]) -> Callable[[Entity], bool]:
    return lambda c: all(test(c) for test in tests)


def _any(tests: list[Callable[[Entity], bool]]) -> Callable[[Entity], bool]:
    return lambda c: any(test(c) for test in tests)


def _never(contact: Entity) -> bool:
    return False


def _always(contact: Entity) -> bool:
    return True


def _in_ranges(
    contact: Entity, ranges: dict[str, tuple[str | None, bool, str | None, bool]]
) -> bool:
    for field, (low, low_strict, high, high_strict) in ranges.items():
        value = contact.get(field) or ""
        if low is not None and (value < low or (low_strict and value == low)):
            return False
        if high is not None and (value > high or (high_strict and value == high)):
            return False
    return True


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
    if direction not in ("asc", "desc") or not isinstance(field, str) or _getter(field) is None:
        raise ApiError(422, ["sort field must be a contact field and direction asc or desc"])
    return field, direction == "desc"


def _cursor_value(field: str, contact: Entity) -> Any:
    getter = _getter(field)
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
    query = _Query(location, body)
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


def _needs_matching(query: _Query, field: str) -> bool:
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
    getter = _getter(field)
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
    query: _Query,
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
            return _in_ranges(contact, ranges) and (base is None or base(contact))

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
    query: _Query,
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
        if (not ranges or _in_ranges(contact, ranges)) and (predicate is None or predicate(contact))
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
