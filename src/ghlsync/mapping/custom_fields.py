"""Custom fields: coerce values to a field's ``dataType`` and read them back by ``fieldKey``.

HighLevel reads custom fields back as ``[{id, value}]`` with ids that differ per location, while
people (and warehouses) think in keys such as ``contact.membership_status``. Keys are stable
across renames; display names are not (GHL-NOTES "Pitfalls"), so nothing here matches by name.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ghlsync.errors import InvalidValueError

_TRUE = {"true", "yes", "y", "1", "on", "checked"}
_FALSE = {"false", "no", "n", "0", "off", "unchecked", ""}


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One custom-field definition of one location, as ``GET /locations/{id}/customFields`` gives."""

    id: str
    key: str
    data_type: str
    name: str = ""
    options: tuple[str, ...] = ()
    #: ``contact`` or ``opportunity`` (custom objects: ``custom_object.<key>``)
    model: str = "contact"

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> FieldDef:
        options = raw.get("picklistOptions") or ()
        return cls(
            id=str(raw["id"]),
            key=str(raw.get("fieldKey") or ""),
            data_type=str(raw.get("dataType") or "TEXT").upper(),
            name=str(raw.get("name") or ""),
            options=tuple(str(o) for o in options if isinstance(o, str | int | float)),
            model=str(raw.get("model") or "contact"),
        )

    @property
    def short_key(self) -> str | None:
        """The key without its model prefix (``contact.plan`` -> ``plan``); None without a key.

        The one rule for naming a custom field's column, in extract and in push alike: by
        ``fieldKey`` only, never by display name (names change on rename, GHL-NOTES §9).
        """
        if not self.key:
            return None
        return self.key.split(".", 1)[1] if "." in self.key else self.key


def field_defs(raw_fields: Iterable[Mapping[str, Any]]) -> dict[str, FieldDef]:
    """Index definitions by id (the shape values come back in)."""
    defs = (FieldDef.from_api(raw) for raw in raw_fields if raw.get("id"))
    return {d.id: d for d in defs}


#: the names a custom field's value goes by in answers (``value`` on contacts, ``fieldValue``
#: on opportunities, typed variants on some objects)
VALUE_KEYS = ("value", "fieldValue", "field_value", "fieldValueString", "fieldValueNumber")


def custom_value(item: Mapping[str, Any]) -> Any:
    """The value of one ``customFields`` item, whichever name it goes by (None: none)."""
    for name in VALUE_KEYS:
        if name in item:
            return item[name]
    return None


def readable_custom_fields(
    values: Iterable[Any] | None, defs_by_id: Mapping[str, FieldDef]
) -> dict[str, Any]:
    """``[{id, value}]`` -> ``{short key: value}`` for the ids a definition with a key exists for.

    The one rule for a custom field's readable name, in extract (``custom_field_values``),
    push and events alike: the definition's ``fieldKey`` without its ``contact.`` /
    ``opportunity.`` prefix (``FieldDef.short_key``), never its display name. Values of unknown
    ids, of definitions without a key and items that are not ``{id, value}`` objects are left out
    here (they stay in the raw list).
    """
    out: dict[str, Any] = {}
    for item in values or ():
        if type(item) is not dict and not isinstance(item, Mapping):  # dict first: quicker
            continue
        field_id = item.get("id")
        if not isinstance(field_id, str):
            continue
        definition = defs_by_id.get(field_id)
        key = definition.short_key if definition is not None else None
        if key:
            out[key] = custom_value(item)
    return out


def coerce_value(definition: FieldDef, value: Any) -> Any:
    """Return ``value`` in the form HighLevel accepts for ``definition.data_type``.

    Raises ``InvalidValueError`` naming the field key and the reason when it cannot be coerced.
    """
    kind = definition.data_type
    field = definition.key or definition.id
    if value is None:
        return None
    if kind in ("NUMERICAL", "MONETORY", "MONETARY"):
        return _number(field, value)
    if kind == "CHECKBOX":
        return _checkbox(field, value, definition.options)
    if kind == "DATE":
        return _date(field, value)
    if kind in ("SINGLE_OPTIONS", "RADIO"):
        return _option(field, value, definition.options)
    if kind == "MULTIPLE_OPTIONS":
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        return [_option(field, item, definition.options) for item in items if str(item).strip()]
    if kind in ("FILE_UPLOAD", "SIGNATURE"):
        raise InvalidValueError(field, value, f"{kind} fields cannot be written through the API")
    if isinstance(value, list | dict):
        raise InvalidValueError(field, value, f"a {kind} field takes text, not a list or object")
    return str(value)


def _number(field: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise InvalidValueError(field, value, "is a boolean, the field is a number")
    if isinstance(value, int | float):
        number: float = float(value)
    else:
        # thousands separators and a leading currency sign ("$1,250.50") are not the number
        text = str(value).strip().replace(",", "").lstrip("$€£¥").strip()
        try:
            number = float(text)
        except ValueError:
            raise InvalidValueError(field, value, "is not a number") from None
    if not math.isfinite(number):
        raise InvalidValueError(field, value, "is not a finite number")
    return int(number) if number.is_integer() else number


def _checkbox(field: str, value: Any, options: tuple[str, ...]) -> list[str]:
    # HighLevel's CHECKBOX holds the list of ticked options; a one-option box acts as a flag.
    if options and isinstance(value, str) and "," in value:
        value = [item for item in value.split(",") if item.strip()]  # "yoga, running"
    if options and isinstance(value, list | tuple):
        return [_option(field, item, options) for item in value]
    text = str(value).strip().lower()
    if text in _TRUE:
        return [options[0]] if options else ["true"]
    if text in _FALSE:
        return []
    if options:
        return [_option(field, value, options)]
    raise InvalidValueError(field, value, "is not a yes/no value")


def _date(field: str, value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise InvalidValueError(field, value, "is not a date in YYYY-MM-DD form") from None


def _option(field: str, value: Any, options: tuple[str, ...]) -> str:
    text = str(value).strip()
    if not options:
        return text
    for option in options:
        if option == text:
            return option
    folded = text.casefold()
    for option in options:
        if option.casefold() == folded:
            return option
    allowed = ", ".join(options[:10])
    raise InvalidValueError(field, value, f"is not one of the field's options ({allowed})")
