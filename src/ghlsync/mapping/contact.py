"""A mapping spec compiled for one location: record -> contact payload and tags, or rejection.

``compile_mapping(spec, definitions, columns)`` resolves every target once (standard fields,
custom fields by ``fieldKey`` or id, unmapped columns matched automatically) and fails with one
``ConfigError`` listing every problem; ``ContactMapping.map(record)`` is then a tight loop with
no I/O. Push (rows of a table) and the event collector (Segment ``identify`` traits) share it.

Example::

    mapping = compile_mapping(parse_mapping({"tags": ["synced"]}), definitions, ["email", "plan"])
    result = mapping.map({"email": " Ann@Example.com ", "plan": "gold"})
    if isinstance(result, Rejected): ...
    else: result.fields, result.tags   # {"email": "ann@example.com", "customFields": [...]}, ...
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ghlsync.errors import InvalidValueError
from ghlsync.mapping.custom_fields import FieldDef, coerce_value
from ghlsync.mapping.normalize import normalize_country, normalize_email, normalize_phone
from ghlsync.mapping.spec import DND_TARGETS, STANDARD_FIELDS, ContactMappingSpec, mapping_error

#: column names (folded: lower case, letters and digits only) matched to standard fields
ALIASES: dict[str, str] = {
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "phone": "phone",
    "phonenumber": "phone",
    "mobile": "phone",
    "mobilephone": "phone",
    "telephone": "phone",
    "firstname": "firstName",
    "givenname": "firstName",
    "lastname": "lastName",
    "surname": "lastName",
    "familyname": "lastName",
    "name": "name",
    "fullname": "name",
    "address1": "address1",
    "address": "address1",
    "street": "address1",
    "streetaddress": "address1",
    "addressline1": "address1",
    "city": "city",
    "state": "state",
    "province": "state",
    "postalcode": "postalCode",
    "zip": "postalCode",
    "zipcode": "postalCode",
    "postcode": "postalCode",
    "country": "country",
    "countrycode": "country",
    "companyname": "companyName",
    "company": "companyName",
    "website": "website",
    "timezone": "timezone",
    "dateofbirth": "dateOfBirth",
    "dob": "dateOfBirth",
    "birthday": "dateOfBirth",
    "birthdate": "dateOfBirth",
    "source": "source",
    "assignedto": "assignedTo",
    "dnd": "dnd",
}

_FOLD = re.compile(r"[^a-z0-9]")
_TRUE = {"true", "yes", "y", "1", "on", "t"}
_FALSE = {"false", "no", "n", "0", "off", "f"}
_DND_STATUS = {"active", "inactive", "permanent"}


def fold(name: str) -> str:
    """``First Name`` / ``first_name`` / ``firstName`` -> ``firstname``."""
    return _FOLD.sub("", name.lower())


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a record was refused: the HighLevel field (or column), a stable reason code
    to count by, and a sentence for people (never the value of a secret)."""

    field: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Rejected:
    problems: tuple[Problem, ...]

    @property
    def reasons(self) -> str:
        return ";".join(dict.fromkeys(p.reason for p in self.problems))

    @property
    def fields(self) -> str:
        return ";".join(dict.fromkeys(p.field for p in self.problems))


@dataclass(frozen=True, slots=True)
class MappedContact:
    """The contact to write, without tags (they go through the tag endpoints), and its tags.

    ``fields`` is in wire spelling; ``customFields`` is ``[{id, field_value}]`` sorted by id.
    """

    fields: dict[str, Any]
    tags: frozenset[str]

    def content_hash(self) -> str:
        """A digest of everything this record would send (fields and tags)."""
        blob = json.dumps([self.fields, sorted(self.tags)], sort_keys=True, default=str)
        return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


Getter = Callable[[Mapping[str, Any]], Any]
Coercer = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Target:
    target: str  # "email", "dndSettings.SMS", or a custom field id
    column: str
    get: Getter
    coerce: Coercer
    reason: str
    custom: FieldDef | None = None
    default: Any = None


@dataclass(frozen=True)
class ContactMapping:
    """A mapping compiled for one location's custom fields (build with ``compile_mapping``)."""

    spec: ContactMappingSpec
    targets: tuple[_Target, ...]
    tag_getters: tuple[Getter, ...]
    #: what automatic matching did, and columns it saw but would not match (for the plan)
    matched: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    fingerprint: str = ""

    @property
    def identity_columns(self) -> tuple[str | None, str | None]:
        """The source columns of ``email`` and ``phone`` (None: not mapped)."""
        by_target = {t.target: t.column for t in self.targets}
        return by_target.get("email"), by_target.get("phone")

    @property
    def columns(self) -> dict[str, str]:
        """``{HighLevel target: source column}`` (custom fields by key)."""
        return {(t.custom.key if t.custom else t.target): t.column for t in self.targets}

    def map(self, record: Mapping[str, Any]) -> MappedContact | Rejected:
        """The contact for ``record``, or every problem with it (never raises for bad data)."""
        out: dict[str, Any] = {}
        customs: list[dict[str, Any]] = []
        problems: list[Problem] = []
        dnd: dict[str, Any] = {}
        for target in self.targets:
            raw = target.get(record)
            if _empty(raw):
                raw = target.default
                if raw is None:
                    continue
            try:
                value = target.coerce(raw)
            except InvalidValueError as exc:
                label = target.custom.key if target.custom else target.target
                problems.append(Problem(label, target.reason, f"{target.column}: {exc.reason}"))
                continue
            if value is None or value == [] or value == "":
                continue
            if target.custom is not None:
                customs.append({"id": target.custom.id, "field_value": value})
            elif target.target.startswith("dndSettings."):
                dnd[target.target.split(".", 1)[1]] = {"status": value}
            else:
                out[target.target] = value
        if not problems and not out.get("email") and not out.get("phone"):
            problems.append(
                Problem("email", "missing_email_and_phone", "the record has no email and no phone")
            )
        if problems:
            return Rejected(tuple(problems))
        if dnd:
            out["dndSettings"] = dnd
        if customs:
            customs.sort(key=lambda item: item["id"])
            out["customFields"] = customs
        tags = set(self.spec.tags)
        separator = self.spec.tag_separator
        for get in self.tag_getters:
            tags.update(_tags(get(record), separator))
        return MappedContact(out, frozenset(tags))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _tags(value: Any, separator: str) -> Iterable[str]:
    if _empty(value):
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(separator)
    return (tag for tag in (str(item).strip() for item in items) if tag)


def getter(column: str) -> Getter:
    """Read ``column`` from a record; ``a.b`` reaches into nested objects unless the record
    has a literal ``a.b`` key (Segment traits nest ``address`` and ``company``)."""
    if "." not in column:
        return lambda record: record.get(column)
    parts = column.split(".")

    def nested(record: Mapping[str, Any]) -> Any:
        if column in record:
            return record[column]
        value: Any = record
        for part in parts:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    return nested


# --------------------------------------------------------------------------- coercers
def _text(value: Any) -> str:
    if isinstance(value, list | dict):
        raise InvalidValueError("text", value, "is a list or object, the field takes text")
    return str(value).strip()


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValueError("dnd", value, "is not a yes/no value")


def _dnd_status(value: Any) -> str:
    if isinstance(value, str) and value.strip().lower() in _DND_STATUS:
        return value.strip().lower()
    try:
        return "active" if _boolean(value) else "inactive"
    except InvalidValueError:
        raise InvalidValueError(
            "dndSettings", value, "is not active, inactive, permanent or a yes/no value"
        ) from None


def _date(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # epoch milliseconds, as search answers carry dateOfBirth (GHL-NOTES §4)
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).date().isoformat()
    return str(coerce_value(FieldDef("", "dateOfBirth", "DATE"), value))


def _standard(target: str, default_region: str | None) -> tuple[Coercer, str]:
    if target == "email":
        return (lambda v: normalize_email(_text(v))), "invalid_email"
    if target == "phone":
        return (lambda v: normalize_phone(_text(v), default_region=default_region)), "invalid_phone"
    if target == "country":
        return (lambda v: normalize_country(_text(v))), "invalid_country"
    if target == "dnd":
        return _boolean, "invalid_boolean"
    if target.startswith("dndSettings."):
        return _dnd_status, "invalid_dnd"
    if target == "dateOfBirth":
        return _date, "invalid_date"
    return _text, "invalid_value"


_REASON_BY_TYPE = {
    "DATE": "invalid_date",
    "NUMERICAL": "invalid_number",
    "MONETORY": "invalid_number",
    "MONETARY": "invalid_number",
    "CHECKBOX": "not_an_option",
    "SINGLE_OPTIONS": "not_an_option",
    "MULTIPLE_OPTIONS": "not_an_option",
    "RADIO": "not_an_option",
    "PHONE": "invalid_phone",
    "EMAIL": "invalid_email",
}
UNWRITABLE_TYPES = frozenset({"FILE_UPLOAD", "SIGNATURE"})


def _custom(definition: FieldDef, default_region: str | None) -> tuple[Coercer, str]:
    kind = definition.data_type
    reason = _REASON_BY_TYPE.get(kind, "invalid_value")
    if kind == "PHONE":
        return (
            lambda v: normalize_phone(_text(v), default_region=default_region, field=definition.key)
        ), reason
    if kind == "EMAIL":
        return (lambda v: normalize_email(_text(v), field=definition.key)), reason
    if kind in ("TEXT", "LARGE_TEXT"):
        return (lambda v: coerce_value(definition, _text(v) if isinstance(v, str) else v)), reason
    return (lambda v: coerce_value(definition, v)), reason


# --------------------------------------------------------------------------- compile
@dataclass
class _Index:
    by_id: dict[str, FieldDef]
    by_key: dict[str, FieldDef]
    by_name: dict[str, list[FieldDef]]

    @classmethod
    def of(cls, definitions: Iterable[FieldDef]) -> _Index:
        index = cls({}, {}, {})
        for definition in definitions:
            if definition.model != "contact":
                continue
            index.by_id[definition.id] = definition
            if definition.key:
                index.by_key[definition.key] = definition
                index.by_key.setdefault(definition.short_key or definition.key, definition)
            if definition.name:
                index.by_name.setdefault(fold(definition.name), []).append(definition)
        return index

    def find(self, ref: str) -> FieldDef | None:
        return self.by_id.get(ref) or self.by_key.get(ref) or self.by_key.get(f"contact.{ref}")


def _by_name_problem(where: str, ref: str, found: Sequence[FieldDef]) -> str:
    listed = ", ".join(f"{d.key or d.id} ({d.name!r})" for d in found)
    if len(found) == 1:
        return (
            f"{where}: {ref!r} is a custom field's display name, not its key; "
            f"write its key {found[0].key or found[0].id}"
        )
    return (
        f"{where}: {ref!r} is the display name of {len(found)} custom fields, "
        f"name one by key: {listed}"
    )


def compile_mapping(
    spec: ContactMappingSpec,
    definitions: Iterable[FieldDef] = (),
    columns: Sequence[str] | None = None,
    *,
    default_region: str | None = None,
    source: str = "mapping",
) -> ContactMapping:
    """Resolve ``spec`` against one location's custom ``definitions`` and the source
    ``columns`` (None: unknown, no automatic matching and no column checks).

    Raises ``ConfigError`` listing every problem: an unknown custom field, a display name used
    as a key (or an ambiguous one: candidates listed), a mapped column missing from the source,
    a file field, two columns landing on one field.
    """
    region = default_region if default_region is not None else spec.default_region
    index = _Index.of(definitions)
    problems: list[str] = list(spec.problems())
    warnings: list[str] = []
    known = set(columns) if columns is not None else None
    chosen: dict[str, tuple[str, str]] = {}  # target -> (column, where)
    custom_defs: dict[str, FieldDef] = {}

    def check_column(where: str, column: str) -> None:
        if known is not None and column not in known and column.split(".", 1)[0] not in known:
            problems.append(f"{where}: column {column!r} is not in the source")

    for target, column in spec.fields.items():
        check_column(f"fields.{target}", column)
        chosen[target] = (column, f"fields.{target}")
    for ref, column in spec.custom_fields.items():
        where = f"custom_fields.{ref}"
        check_column(where, column)
        definition = index.find(ref)
        if definition is None:
            named = index.by_name.get(fold(ref), [])
            problems.append(
                _by_name_problem(where, ref, named)
                if named
                else f"{where}: no contact custom field has the key or id {ref!r}"
            )
            continue
        if definition.data_type in UNWRITABLE_TYPES:
            problems.append(f"{where}: {definition.data_type} fields cannot be written by the API")
            continue
        if definition.id in chosen:
            problems.append(f"{where}: the field is mapped twice")
        chosen[definition.id] = (column, where)
        custom_defs[definition.id] = definition
    for column in spec.tags_from:
        check_column(f"tags_from.{column}", column)

    matched: dict[str, str] = {}
    if spec.auto_match and columns is not None:
        used = {column for column, _ in chosen.values()} | set(spec.tags_from) | set(spec.ignore)
        claims: dict[str, list[str]] = {}
        for column in columns:
            if column in used:
                continue
            folded = fold(column)
            standard = ALIASES.get(folded)
            if standard is not None:
                if standard not in chosen:
                    claims.setdefault(standard, []).append(column)
                continue
            short = column.split(".", 1)[1] if column.startswith("contact.") else column
            definition = index.by_key.get(f"contact.{short}") or index.by_key.get(column)
            if definition is not None:
                if definition.data_type in UNWRITABLE_TYPES:
                    warnings.append(f"column {column!r}: {definition.data_type} field skipped")
                elif definition.id not in chosen:
                    claims.setdefault(definition.id, []).append(column)
                    custom_defs[definition.id] = definition
                continue
            named = index.by_name.get(folded, [])
            if len(named) > 1:
                problems.append(_by_name_problem(f"column {column!r}", column, named))
            elif named:
                warnings.append(
                    f"column {column!r} matches the display name of {named[0].key}, not its key:"
                    f" not mapped (map it under custom_fields, or list it under ignore)"
                )
        for target, claimants in claims.items():
            if len(claimants) > 1:
                label = custom_defs[target].key if target in custom_defs else target
                problems.append(
                    f"columns {', '.join(map(repr, claimants))} all match {label}: "
                    "map one of them explicitly, or list the others under ignore"
                )
                continue
            chosen[target] = (claimants[0], "auto")
            matched[claimants[0]] = custom_defs[target].key if target in custom_defs else target

    defaults: dict[str, Any] = {}
    for ref, value in spec.defaults.items():
        if ref in STANDARD_FIELDS or ref in DND_TARGETS:
            defaults[ref] = value
            continue
        definition = index.find(ref)
        if definition is None:
            named = index.by_name.get(fold(ref), [])
            problems.append(
                _by_name_problem(f"defaults.{ref}", ref, named)
                if named
                else f"defaults.{ref}: no contact custom field has the key or id {ref!r}"
            )
            continue
        defaults[definition.id] = value
        custom_defs.setdefault(definition.id, definition)

    if problems:
        raise mapping_error(source, problems)

    targets: list[_Target] = []
    for target in sorted(set(chosen) | set(defaults)):
        column = chosen[target][0] if target in chosen else ""
        get = getter(column) if column else _none
        definition = custom_defs.get(target)
        if definition is not None:
            coerce, reason = _custom(definition, region)
        else:
            coerce, reason = _standard(target, region)
        targets.append(
            _Target(target, column, get, coerce, reason, definition, defaults.get(target))
        )
    # identity first so its problems come first
    targets.sort(key=lambda t: (t.target not in ("email", "phone"), t.target))
    fingerprint = _fingerprint(spec, targets, region)
    return ContactMapping(
        spec,
        tuple(targets),
        tuple(getter(column) for column in spec.tags_from),
        matched,
        tuple(warnings),
        fingerprint,
    )


def _none(record: Mapping[str, Any]) -> None:
    return None


def _fingerprint(spec: ContactMappingSpec, targets: Sequence[_Target], region: str | None) -> str:
    described = [
        [
            t.target,
            t.column,
            repr(t.default),
            [t.custom.key, t.custom.data_type, list(t.custom.options)] if t.custom else None,
        ]
        for t in targets
    ]
    blob = json.dumps(
        [described, sorted(spec.tags), list(spec.tags_from), spec.tag_separator, region],
        sort_keys=True,
    )
    return hashlib.blake2b(blob.encode(), digest_size=12).hexdigest()
