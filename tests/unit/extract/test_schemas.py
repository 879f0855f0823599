"""Deriving a table's JSON schema from a wire shape (``extract.schemas``): each rule once."""

from __future__ import annotations

from typing import Annotated, Any, Required, TypedDict, is_typeddict

import pytest

from ghlsync.client.resources.wire import INFERRED, DateTime, EpochMs
from ghlsync.extract.schemas import epoch_ms_fields, table_schema


class _Item(TypedDict, total=False):
    id: Required[str]
    label: str
    raw: Annotated[Any, INFERRED]


class _Shape(TypedDict, total=False):
    _id: str
    name: str
    count: int
    ratio: float
    active: bool
    seen: DateTime
    sent: EpochMs
    tags: list[str]
    items: list[_Item]
    extra: list[dict[str, Any]]
    meta: dict[str, Any]
    code: str | float
    state: str | dict[str, Any]
    later: Annotated[str, INFERRED]


def test_a_shape_becomes_a_table_schema_field_by_field_in_order() -> None:
    schema = table_schema(_Shape)
    assert schema["required"] == ["id", "location_id"]
    assert schema["additionalProperties"] is True
    assert list(schema["properties"].items()) == [
        ("id", {"type": "string"}),
        ("location_id", {"type": "string"}),
        ("_ghlsync_deleted", {"type": ["boolean", "null"]}),
        ("name", {"type": ["string", "null"]}),
        ("count", {"type": ["number", "null"]}),
        ("ratio", {"type": ["number", "null"]}),
        ("active", {"type": ["boolean", "null"]}),
        ("seen", {"type": ["string", "null"], "format": "date-time"}),
        ("sent", {"type": ["string", "null"], "format": "date-time"}),
        ("tags", {"type": ["array", "null"], "items": {"type": "string"}}),
        (
            "items",
            {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "label": {"type": ["string", "null"]}},
                },
            },
        ),
        ("extra", {"type": ["array", "null"]}),
        ("meta", {"type": ["object", "null"], "additionalProperties": True}),
        ("code", {"type": ["string", "number", "null"]}),
        ("state", {"type": ["string", "object", "null"]}),
    ]


def test_custom_fields_add_the_readable_column_last() -> None:
    properties = list(table_schema(_Shape, custom_fields=True)["properties"].items())
    assert properties[-1] == (
        "custom_field_values",
        {"type": ["object", "null"], "additionalProperties": True},
    )


def test_epoch_ms_fields_are_named() -> None:
    assert epoch_ms_fields(_Shape) == ("sent",)


class _Untyped(TypedDict, total=False):
    when: set[str]


def test_a_field_without_a_json_type_is_refused() -> None:
    with pytest.raises(TypeError, match="no JSON type for set"):
        table_schema(_Untyped)


def test_every_stream_takes_its_shape_from_the_client() -> None:
    from ghlsync.extract.streams import STREAMS

    for name, stream in STREAMS.items():
        assert is_typeddict(stream.shape), name
        assert stream.shape.__module__.startswith("ghlsync.client.resources."), name
        assert stream.json_schema == table_schema(stream.shape, custom_fields=stream.custom_fields)
