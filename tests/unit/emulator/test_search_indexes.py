"""The contact search indexes (tags, country, custom fields, sort fields, totals) against a
brute-force reading of the same contacts, before and after writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ghlsync.emulator import SeedOptions
from ghlsync.emulator.collection import Entity
from ghlsync.emulator.contacts.indexes import ContactCollection
from tests.unit.emulator.conftest import Emu, make_emu


@pytest.fixture
async def emu() -> AsyncIterator[Emu]:
    instance = await make_emu(SeedOptions(locations=1, contacts=600, seed=11))
    async with instance.client:
        yield instance


def _contacts(emu: Emu) -> ContactCollection:
    contacts = emu.store.contacts(emu.loc())
    assert isinstance(contacts, ContactCollection)
    return contacts


async def _walk(emu: Emu, body: dict[str, Any]) -> tuple[list[str], int]:
    """Every id of a search, page by page with ``searchAfter``; and the total it reports."""
    seen: list[str] = []
    cursor = None
    total = -1
    while True:
        page = {"locationId": emu.loc(), "pageLimit": 37, **body}
        if cursor is not None:
            page["searchAfter"] = cursor
        response = await emu.client.post("/contacts/search", json=page, headers=emu.headers())
        assert response.status_code == 200, response.text
        data = response.json()
        total = data["total"]
        seen += [contact["id"] for contact in data["contacts"]]
        if len(data["contacts"]) < 37:
            return seen, total
        cursor = data["contacts"][-1]["searchAfter"]


def _expected(
    emu: Emu, keep: Callable[[Entity], bool], sort: Callable[[Entity], Any], desc: bool
) -> list[str]:
    found = [contact for contact in _contacts(emu).items.values() if keep(contact)]
    found.sort(key=lambda contact: (sort(contact), contact["id"]), reverse=desc)
    return [contact["id"] for contact in found]


def _first_name(contact: Entity) -> Any:
    value = contact.get("firstName")
    return (0, "") if value is None else (1, value.lower())


def _tagged(tag: str) -> Callable[[Entity], bool]:
    return lambda contact: tag in [item.lower() for item in contact.get("tags") or ()]


def _custom(contacts: ContactCollection) -> tuple[str, Any]:
    """A (custom field id, value) pair that several seeded contacts share."""
    bucket = max(
        ((name, key, ids) for name, keys in contacts.values.items() for key, ids in keys.items()),
        key=lambda item: len(item[2]) if item[0].startswith("customFields.") else -1,
    )
    assert bucket[0].startswith("customFields.") and len(bucket[2]) > 20
    return bucket[0].split(".", 1)[1], bucket[1]


async def _check_all(emu: Emu) -> None:
    contacts = _contacts(emu)
    tag = max(contacts.values["tags"], key=lambda key: len(contacts.values["tags"][key]))
    field_id, value = _custom(contacts)

    def has_value(contact: Entity) -> bool:
        for item in contact.get("customFields") or ():
            if item["id"] == field_id:
                current = item["value"]
                parts = current if isinstance(current, list) else [current]
                return value in [p.lower() if isinstance(p, str) else p for p in parts]
        return False

    cases: list[tuple[dict[str, Any], Callable[[Entity], bool], Callable[[Entity], Any], bool]] = [
        (
            {
                "filters": [{"field": "tags", "operator": "eq", "value": tag}],
                "sort": [{"field": "firstName", "direction": "asc"}],
            },
            _tagged(tag),
            _first_name,
            False,
        ),
        (
            {
                "filters": [{"field": "country", "operator": "eq", "value": "us"}],
                "sort": [{"field": "dateUpdated", "direction": "desc"}],
            },
            lambda contact: (contact.get("country") or "").lower() == "us",
            lambda contact: contact.get("dateUpdated") or "",
            True,
        ),
        (
            {
                "filters": [
                    {"field": f"customFields.{field_id}", "operator": "eq", "value": value},
                    {
                        "field": "dateAdded",
                        "operator": "range",
                        "value": {"gte": "2025-06-01T00:00:00.000Z"},
                    },
                ],
                "sort": [{"field": "dateAdded", "direction": "asc"}],
            },
            lambda contact: (
                has_value(contact)
                and (contact.get("dateAdded") or "") >= "2025-06-01T00:00:00.000Z"
            ),
            lambda contact: contact.get("dateAdded") or "",
            False,
        ),
        (
            {"sort": [{"field": "firstName", "direction": "desc"}], "query": "a"},
            lambda contact: (
                "a"
                in " ".join(
                    str(contact.get(key) or "").lower()
                    for key in ("firstName", "lastName", "email", "phone", "companyName")
                )
            ),
            _first_name,
            True,
        ),
    ]
    for body, keep, sort, desc in cases:
        ids, total = await _walk(emu, body)
        wanted = _expected(emu, keep, sort, desc)
        assert ids == wanted, body
        assert total == len(wanted), body


async def test_indexed_searches_match_a_brute_force_reading(emu: Emu) -> None:
    await _check_all(emu)


async def test_indexes_and_totals_follow_writes(emu: Emu) -> None:
    await _check_all(emu)  # builds the sort index and caches the totals
    contacts = _contacts(emu)
    assert "firstName" in contacts.sorted_by and contacts.totals
    tag = max(contacts.values["tags"], key=lambda key: len(contacts.values["tags"][key]))
    field_id, value = _custom(contacts)
    for number in range(5):
        await emu.create(
            firstName=f"Aaron{number}",
            email=f"index{number}@example.com",
            tags=[tag],
            country="US",
            customFields=[{"id": field_id, "value": value}],
        )
    some = sorted(contacts.values["tags"][tag])[:3]
    for contact_id in some[:2]:
        response = await emu.client.put(
            f"/contacts/{contact_id}",
            json={"tags": [], "firstName": "Zed", "country": "FR"},
            headers=emu.headers(),
        )
        assert response.status_code == 200, response.text
    response = await emu.client.delete(f"/contacts/{some[2]}", headers=emu.headers())
    assert response.status_code == 200, response.text
    assert "firstName" in contacts.sorted_by
    await _check_all(emu)


async def test_a_phone_filter_with_another_filter_matches_as_the_phone_index_does(
    emu: Emu,
) -> None:
    made = await emu.create(phone="+1 604 555 0101", tags=["vip-x"], email="phone.x@example.com")
    body = {
        "filters": [
            {"field": "phone", "operator": "eq", "value": "(604) 555-0101"},
            {"field": "tags", "operator": "eq", "value": "vip-x"},
        ]
    }
    ids, total = await _walk(emu, body)
    assert (ids, total) == ([made["id"]], 1)
    await emu.create(phone="+1 604 555 0102", tags=["vip-x"], email="phone.y@example.com")
    assert await _walk(emu, body) == ([made["id"]], 1)
    text = await _walk(emu, {"query": "phone.x@", "filters": body["filters"][1:]})
    assert text == ([made["id"]], 1)
