"""Records to Arrow tables: column types decided once, nothing lost when a value does not fit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pyarrow as pa

from ghlsync.extract.arrow import TableShaper, declared_kinds, infer
from ghlsync.extract.streams import STREAMS


def _col(table: pa.Table, name: str) -> list[Any]:
    return list(table.column(name).to_pylist())


def test_infer_kinds() -> None:
    assert infer([None, 1, 2]) == "bigint"
    assert infer([1, 2.5]) == "double"
    assert infer([True, None]) == "bool"
    assert infer(["2026-01-02T03:04:05.000Z", None]) == "timestamp"
    assert infer(["2026-01-02", None]) == "date"  # no time and zone: a date, not a timestamp
    assert infer(["2026-01-02", "soon"]) == "text"
    assert infer(["2026-01-02T03:04"]) == "text"
    assert infer(["a", 1]) == "text"
    assert infer([["x"], "a"]) == "json"
    assert infer([None, None]) is None


def test_types_names_and_flattening() -> None:
    shaper = TableShaper(declared_kinds(STREAMS["contacts"].json_schema))
    table = shaper.table(
        [
            {
                "id": "c1",
                "firstName": "Ana",
                "dateUpdated": "2026-03-01T10:00:00.000Z",
                "tags": ["vip", "lead"],
                "customFields": [{"id": "f1", "value": 3}],
                "custom_field_values": {"company_size": 3, "services": ["a", "b"]},
                "dndSettings": {"SMS": {"status": "active"}},
                "location_id": "L1",
            }
        ]
    )
    assert table.schema.field("date_updated").type == pa.timestamp("us", tz="UTC")
    assert _col(table, "date_updated") == [dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)]
    assert _col(table, "first_name") == ["Ana"]
    assert json.loads(_col(table, "tags")[0]) == ["vip", "lead"]
    assert json.loads(_col(table, "custom_fields")[0]) == [{"id": "f1", "value": 3}]
    assert _col(table, "custom_field_values__company_size") == [3]
    assert json.loads(_col(table, "custom_field_values__services")[0]) == ["a", "b"]
    assert json.loads(_col(table, "dnd_settings__sms")[0]) == {"status": "active"}
    assert shaper.new_json_columns() == [
        "custom_field_values__services",
        "custom_fields",
        "dnd_settings__sms",
        "tags",
    ]
    assert shaper.new_json_columns() == []  # told once


def test_type_holds_across_pages_and_misfits_go_to_a_variant_column() -> None:
    shaper = TableShaper()
    first = shaper.table([{"id": "a", "size": 1, "location_id": "L"}])
    assert first.schema.field("size").type == pa.int64()
    second = shaper.table(
        [
            {"id": "b", "size": 2.5, "location_id": "L"},
            {"id": "c", "size": "big", "location_id": "L"},
            {"id": "d", "size": 4, "location_id": "L"},
        ]
    )
    assert second.schema.field("size").type == pa.int64()
    assert _col(second, "size") == [None, None, 4]
    assert _col(second, "size__v_double") == [2.5, None, None]
    assert _col(second, "size__v_text") == [None, "big", None]


def test_text_column_takes_scalars_in_their_json_spelling() -> None:
    shaper = TableShaper()
    shaper.table([{"id": "a", "code": "x1"}])
    table = shaper.table([{"id": "b", "code": 7}, {"id": "c", "code": True}])
    assert _col(table, "code") == ["7", "true"]


def test_unparseable_timestamp_is_kept_as_text_variant() -> None:
    shaper = TableShaper({"date_added": "timestamp"})
    table = shaper.table(
        [{"id": "a", "dateAdded": "2026-01-01T00:00:00Z"}, {"id": "b", "dateAdded": "soon"}]
    )
    assert _col(table, "date_added") == [dt.datetime(2026, 1, 1, tzinfo=dt.UTC), None]
    assert _col(table, "date_added__v_text") == [None, "soon"]


def test_stored_schema_wins_over_declared_and_inferred() -> None:
    shaper = TableShaper({"score": "bigint"}, stored={"score": "double", "note": "text"})
    table = shaper.table([{"id": "a", "score": 2, "note": 5}])
    assert table.schema.field("score").type == pa.float64()
    assert _col(table, "note") == ["5"]


def test_location_id_wins_a_name_clash_and_null_keys_fill_in() -> None:
    shaper = TableShaper()
    table = shaper.table(
        [
            {"locationId": "OTHER", "id": "a", "location_id": "L1"},
            {"locationId": None, "id": "b", "location_id": "L1"},
        ]
    )
    assert table.column_names.count("location_id") == 1
    assert _col(table, "location_id") == ["L1", "L1"]


def test_all_null_untyped_column_is_left_out_and_empty_page_is_a_table() -> None:
    shaper = TableShaper()
    table = shaper.table([{"id": "a", "nothing": None}])
    assert "nothing" not in table.column_names
    assert shaper.table([]).num_rows == 0


def test_mixed_object_and_scalar_values_keep_both() -> None:
    shaper = TableShaper()
    table = shaper.table([{"id": "a", "meta": {"k": 1}}, {"id": "b", "meta": "plain"}])
    assert _col(table, "meta__k") == [1, None]
    assert _col(table, "meta") == [None, "plain"]


def test_dates_declared_columns_and_embedded_ids() -> None:
    shaper = TableShaper(declared_kinds(STREAMS["opportunities"].json_schema))
    first = shaper.table(
        [
            {
                "id": "o1",
                "location_id": "L",
                "contactId": "c1",
                "contact": {"id": "c1", "name": "A"},
            },
            {"id": "o2", "location_id": "L", "contact": {"id": "c2"}},
        ]
    )
    assert "contact__id" not in first.column_names
    assert _col(first, "contact_id") == ["c1", "c2"]
    assert _col(first, "contact__name") == ["A", None]
    # declared but absent from every record: there, typed, null
    assert first.schema.field("assigned_to").type == pa.string()
    assert _col(first, "assigned_to") == [None, None]

    dates = TableShaper().table([{"d": "2026-02-01"}, {"d": "2026-02-30"}, {"d": None}])
    assert dates.schema.field("d").type == pa.date32()
    assert [str(v) if v else v for v in _col(dates, "d")] == ["2026-02-01", None, None]
    assert _col(dates, "d__v_text") == [None, "2026-02-30", None]  # kept, never dropped


def test_columns_scan_in_duckdb_as_typed_without_a_copy_through_pyarrow() -> None:
    """What the DuckDB loader registers: the same values DuckDB reads as pyarrow would."""
    import duckdb

    shaper = TableShaper({"date_updated": "timestamp", "renewal": "date"}, keys=("id",))
    columns = shaper.columns(
        [
            {"id": "a", "date_updated": "2026-03-01T10:00:00.123456Z", "renewal": "2026-02-28"},
            {"id": "b", "date_updated": "2026-03-01T12:00:00+02:00", "renewal": "2026-02-30"},
            {"id": "c", "date_updated": "2026-03-01 09:30:00", "tags": ["x", "é"], "n": 2**40},
        ]
    )
    assert columns.num_rows == 3
    assert columns.kind("tags") == "json" and columns.kind("n") == "bigint"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("staged", columns)
        described = dict(
            (name, kind) for name, kind, *_ in con.execute("DESCRIBE staged").fetchall()
        )
        rows = con.execute(
            "SELECT id, date_updated, renewal, renewal__v_text, tags, n FROM staged ORDER BY id"
        ).fetchall()
    assert described["date_updated"] == "TIMESTAMP WITH TIME ZONE"
    assert described["renewal"] == "DATE"
    utc = dt.UTC
    assert [(r[0], r[1].astimezone(utc)) for r in rows] == [
        ("a", dt.datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=utc)),
        ("b", dt.datetime(2026, 3, 1, 10, 0, tzinfo=utc)),
        ("c", dt.datetime(2026, 3, 1, 9, 30, tzinfo=utc)),  # no zone: UTC
    ]
    assert [r[2] for r in rows] == [dt.date(2026, 2, 28), None, None]
    assert [r[3] for r in rows] == [None, "2026-02-30", None]  # not a date: kept as text
    assert json.loads(rows[2][4]) == ["x", "é"] and rows[2][5] == 2**40
    assert columns.to_arrow().column("n").to_pylist() == [None, None, 2**40]


def test_an_integer_beyond_64_bits_goes_to_a_text_variant_not_an_overflow() -> None:
    shaper = TableShaper({"n": "bigint"}, keys=("id",))
    columns = shaper.columns(
        [{"id": "a", "n": 2**70}, {"id": "b", "n": 5}, {"id": "c", "n": -(2**63)}]
    )
    assert columns.to_pylist("n") == [None, 5, -(2**63)]
    assert columns.to_pylist("n__v_text") == [str(2**70), None, None]
    assert shaper.kinds["n"] == "bigint"


def test_columns_say_when_two_rows_may_share_a_key() -> None:
    shaper = TableShaper(keys=("id", "location_id"))
    unique = [{"id": "a", "location_id": "L"}, {"id": "a", "location_id": "M"}]
    assert not shaper.columns(unique).repeated_keys
    assert shaper.columns([*unique, {"id": "a", "location_id": "L", "x": 1}]).repeated_keys
    assert shaper.columns([{"id": ["odd"], "location_id": "L"}]).repeated_keys  # unhashable
    assert TableShaper(keys=("id", "other")).columns(unique).repeated_keys  # a key not seen
