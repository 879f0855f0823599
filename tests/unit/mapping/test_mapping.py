from __future__ import annotations

import datetime as dt

import pytest

from ghlsync.errors import InvalidValueError
from ghlsync.mapping import (
    FieldDef,
    coerce_value,
    field_defs,
    normalize_country,
    normalize_email,
    normalize_phone,
    readable_custom_fields,
)


def test_email_is_trimmed_and_lowercased() -> None:
    assert normalize_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"


@pytest.mark.parametrize("raw", ["", "ann", "ann@", "ann@@example.com", "a b@example.com"])
def test_bad_email_says_why(raw: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        normalize_email(raw)
    assert info.value.field == "email"
    assert info.value.reason


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+49 30 901820", None, "+4930901820"),
    ],
)
def test_phone_goes_out_as_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, default_region=region) == expected


def test_phone_without_country_is_refused_when_no_default() -> None:
    with pytest.raises(InvalidValueError, match="country code"):
        normalize_phone("415 555 2671", default_region=None)


@pytest.mark.parametrize("raw", ["", "12", "+1 555", "not a phone"])
def test_bad_phone_says_why(raw: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        normalize_phone(raw)
    assert info.value.field == "phone"


def test_country_codes_and_aliases() -> None:
    assert normalize_country("us") == "US"
    assert normalize_country("UK") == "GB"
    with pytest.raises(InvalidValueError):
        normalize_country("Atlantis")


DEFS = field_defs(
    [
        {
            "id": "f1",
            "fieldKey": "contact.plan",
            "dataType": "SINGLE_OPTIONS",
            "picklistOptions": ["Gold", "Silver"],
        },
        {"id": "f2", "fieldKey": "contact.score", "dataType": "NUMERICAL"},
        {"id": "f3", "fieldKey": "contact.renewal", "dataType": "DATE"},
        {"id": "f4", "fieldKey": "contact.vip", "dataType": "CHECKBOX", "picklistOptions": ["VIP"]},
        {
            "id": "f5",
            "fieldKey": "contact.interests",
            "dataType": "MULTIPLE_OPTIONS",
            "picklistOptions": ["a", "b"],
        },
        {"id": "f6", "fieldKey": "contact.notes", "dataType": "LARGE_TEXT"},
    ]
)


def test_values_read_back_by_key() -> None:
    raw = [{"id": "f1", "value": "Gold"}, {"id": "f2", "value": 7}, {"id": "zz", "value": "?"}]
    assert readable_custom_fields(raw, DEFS) == {"plan": "Gold", "score": 7}


def test_coercion_per_data_type() -> None:
    assert coerce_value(DEFS["f1"], "gold") == "Gold"
    assert coerce_value(DEFS["f2"], "1,250") == 1250
    assert coerce_value(DEFS["f2"], 2.5) == 2.5
    assert coerce_value(DEFS["f3"], dt.datetime(2026, 1, 2, 3, 4)) == "2026-01-02"
    assert coerce_value(DEFS["f3"], "2026-03-04T10:00:00Z") == "2026-03-04"
    assert coerce_value(DEFS["f4"], "yes") == ["VIP"]
    assert coerce_value(DEFS["f4"], "no") == []
    assert coerce_value(DEFS["f5"], "a, B") == ["a", "b"]
    assert coerce_value(DEFS["f6"], 12) == "12"


@pytest.mark.parametrize(
    ("field_id", "value", "reason"),
    [
        ("f1", "Bronze", "options"),
        ("f2", "lots", "not a number"),
        ("f2", True, "boolean"),
        ("f3", "next tuesday", "YYYY-MM-DD"),
        ("f6", ["x"], "not a list"),
    ],
)
def test_uncoercible_values_name_the_field_and_reason(
    field_id: str, value: object, reason: str
) -> None:
    with pytest.raises(InvalidValueError, match=reason) as info:
        coerce_value(DEFS[field_id], value)
    assert info.value.field == DEFS[field_id].key


def test_file_fields_are_refused() -> None:
    upload = FieldDef(id="f9", key="contact.doc", data_type="FILE_UPLOAD")
    with pytest.raises(InvalidValueError, match="cannot be written"):
        coerce_value(upload, "x.pdf")
