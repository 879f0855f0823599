"""Search rows into the GET shape (GHL-NOTES §4: ``address``, epoch-ms ``dateOfBirth``)."""

from __future__ import annotations

import datetime as dt

from ghlsync.mapping.search_rows import contact_from_search_row


def test_search_row_gets_address1_and_an_iso_date_of_birth() -> None:
    birth = int(dt.datetime(1990, 5, 17, tzinfo=dt.UTC).timestamp() * 1000)
    row = {"id": "c1", "address": "1 Test St", "dateOfBirth": birth, "phoneLabel": None}
    shaped = contact_from_search_row(row)
    assert shaped == {
        "id": "c1",
        "address1": "1 Test St",
        "dateOfBirth": "1990-05-17T00:00:00.000Z",
        "phoneLabel": None,
    }
    assert row["address"] == "1 Test St"  # the input is not modified


def test_a_get_shaped_record_is_unchanged() -> None:
    record = {"id": "c1", "address1": "2 Main St", "dateOfBirth": "1980-01-02"}
    assert contact_from_search_row(record) == record


def test_both_address_spellings_keep_both_values() -> None:
    both = {"address": "search", "address1": "get"}
    assert contact_from_search_row(both) == both


def test_a_boolean_or_absurd_birth_date_is_kept_as_sent() -> None:
    assert contact_from_search_row({"dateOfBirth": True})["dateOfBirth"] is True
    assert contact_from_search_row({"dateOfBirth": 10**20})["dateOfBirth"] == 10**20
