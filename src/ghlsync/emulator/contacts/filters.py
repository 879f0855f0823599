"""The filters of ``POST /contacts/search`` compiled to predicates (``{field, operator, value}``
and ``{group: AND|OR, filters}``), noting the indexes that can narrow them; ``query`` text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ghlsync.emulator.common import ApiError
from ghlsync.emulator.contacts.model import DATE_FIELDS, as_iso, full_name, normalize_phone
from ghlsync.emulator.state import ContactCollection, Entity, LocationState, normalize_email_key

OPERATORS = ("eq", "not_eq", "contains", "not_contains", "exists", "not_exists", "range")
#: filter values are at most 75 characters (GHL-NOTES §4, hoopai copy of HighLevel's doc)
MAX_VALUE_LENGTH = 75
#: ``contains``/``not_contains`` take no special characters (GHL-NOTES §4). Which characters
#: count as special is unconfirmed: letters, digits, spaces and ``@ . - _ +`` (emails, phones,
#: names) are accepted, everything else is refused.
CONTAINS_PUNCTUATION = frozenset("@.-_+ ")


def _special(value: str) -> bool:
    return any(not (char.isalnum() or char in CONTAINS_PUNCTUATION) for char in value)


class Query:
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
        getter = field_getter(field)
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


def field_getter(field: str) -> Callable[[Entity], Any] | None:
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


def in_ranges(
    contact: Entity, ranges: dict[str, tuple[str | None, bool, str | None, bool]]
) -> bool:
    for field, (low, low_strict, high, high_strict) in ranges.items():
        value = contact.get(field) or ""
        if low is not None and (value < low or (low_strict and value == low)):
            return False
        if high is not None and (value > high or (high_strict and value == high)):
            return False
    return True
