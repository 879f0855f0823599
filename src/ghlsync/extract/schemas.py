"""A stream's JSON schema, derived from the wire shape the client declares (``TypedDict``).

The Singer tap sends the schema as it is; the dlt source types its Arrow columns from it
(``arrow.declared_kinds``). Rules (``ghlsync.client.resources.wire`` documents the markers):

- every table starts with ``id`` and ``location_id`` (strings, required) and
  ``_ghlsync_deleted``; the shape's own ``id`` / ``_id`` is that key, not another column;
- then the shape's fields in declaration order, each nullable (``["string", "null"]``), except
  those marked ``INFERRED`` (dlt types them from the data); ``int`` and ``float`` are both
  ``number`` (HighLevel sends ``5`` and ``5.0`` alike); ``DateTime`` and ``EpochMs`` are
  ``date-time`` strings; ``list[str]`` and ``list[<TypedDict>]`` declare their items;
- a stream with custom fields ends with ``custom_field_values`` (``{key: value}``, added by
  ``shape.shape``).

Example::

    >>> table_schema(Tag)["properties"]["name"]
    {'type': ['string', 'null']}
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, NotRequired, Required, Union, get_args, get_origin

from ghlsync.client.resources.wire import Wire
from ghlsync.extract.shape import CUSTOM_FIELD_VALUES, DELETED, LOCATION_ID

#: the table key, declared by every table rather than by its shape
_KEYS = ("id", "_id")
_SCALARS: dict[type, str] = {str: "string", bool: "boolean", int: "number", float: "number"}


def table_schema(shape: type, *, custom_fields: bool = False) -> dict[str, Any]:
    """The JSON schema of a stream's table whose records have the wire shape ``shape``."""
    properties: dict[str, Any] = {
        "id": {"type": "string"},
        LOCATION_ID: {"type": "string"},
        DELETED: {"type": ["boolean", "null"]},
    }
    for name, hint in _fields(shape):
        if name not in _KEYS:
            properties[name] = column_schema(hint)
    if custom_fields:
        properties[CUSTOM_FIELD_VALUES] = {"type": ["object", "null"], "additionalProperties": True}
    return {
        "type": "object",
        "properties": properties,
        "required": ["id", LOCATION_ID],
        "additionalProperties": True,
    }


def epoch_ms_fields(shape: type) -> tuple[str, ...]:
    """The fields of ``shape`` HighLevel sends as epoch milliseconds (``EpochMs``)."""
    hints = typing.get_type_hints(shape, include_extras=True)
    return tuple(name for name, hint in hints.items() if Wire.EPOCH_MS in _markers(hint))


def column_schema(hint: Any, *, nullable: bool = True) -> dict[str, Any]:
    """The JSON schema of one field typed ``hint``."""
    origin = get_origin(hint)
    if origin is Required:
        return column_schema(get_args(hint)[0], nullable=False)
    if origin is NotRequired:
        return column_schema(get_args(hint)[0], nullable=nullable)
    markers = _markers(hint)
    if Wire.DATE_TIME in markers or Wire.EPOCH_MS in markers:
        return {"type": _nullable(["string"], nullable), "format": "date-time"}
    if origin is Annotated:
        return column_schema(get_args(hint)[0], nullable=nullable)
    if origin in (Union, types.UnionType):
        arms = [_type_name(arm) for arm in get_args(hint) if arm is not type(None)]
        return {"type": _nullable(list(dict.fromkeys(arms)), nullable)}
    kind = _type_name(hint)
    schema: dict[str, Any] = {"type": _nullable([kind], nullable)}
    if kind == "object":
        schema["additionalProperties"] = True
    elif kind == "array":
        (item,) = get_args(hint) or (Any,)
        if item is str:
            schema["items"] = {"type": "string"}
        elif typing.is_typeddict(item):
            nested = {name: column_schema(h) for name, h in _fields(item)}
            schema["items"] = {"type": "object", "properties": nested}
    return schema


def _fields(shape: type) -> list[tuple[str, Any]]:
    """The declared fields of ``shape`` in order, without those marked ``INFERRED``."""
    hints = typing.get_type_hints(shape, include_extras=True)
    return [(name, hint) for name, hint in hints.items() if Wire.INFERRED not in _markers(hint)]


def _markers(hint: Any) -> tuple[Any, ...]:
    while get_origin(hint) in (Required, NotRequired):
        hint = get_args(hint)[0]
    return tuple(getattr(hint, "__metadata__", ()))


def _type_name(hint: Any) -> str:
    origin = get_origin(hint) or hint
    if origin in (list, tuple):
        return "array"
    if origin is dict or typing.is_typeddict(origin):
        return "object"
    if origin in _SCALARS:
        return _SCALARS[origin]
    raise TypeError(f"no JSON type for {hint!r}: declare the field with a JSON type")


def _nullable(kinds: list[str], nullable: bool) -> str | list[str]:
    if nullable:
        return [*kinds, "null"]
    return kinds[0] if len(kinds) == 1 else kinds
