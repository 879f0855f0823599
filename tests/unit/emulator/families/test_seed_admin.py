"""Seed determinism (``anchor``), ``/_emulator/reset`` and the additive ``/_emulator/seed``,
and the admin API's input errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ghlsync.cli.emulator import app as emulator_cli
from ghlsync.emulator import SeedOptions, build
from ghlsync.emulator.state import ms_from_iso
from tests.unit.emulator.conftest import Emu, make_emu

ANCHOR = "2026-06-30"
ANCHOR_MS = ms_from_iso("2026-06-30T00:00:00.000Z")


def _listing(options: SeedOptions) -> str:
    store, result = build(options)
    contacts = store.contacts(result.locations[0]["id"])
    return json.dumps(list(contacts.items.values()), sort_keys=True)


def test_same_seed_and_anchor_give_byte_identical_contacts() -> None:
    options = SeedOptions(locations=2, contacts=80, seed=9, anchor_ms=ANCHOR_MS)
    first, second = _listing(options), _listing(options)
    assert first == second
    other = SeedOptions(locations=2, contacts=80, seed=9, anchor_ms=ANCHOR_MS - 86_400_000)
    assert _listing(other) != first


def test_seeded_dates_span_two_years_before_the_anchor() -> None:
    store, result = build(SeedOptions(locations=1, contacts=400, seed=2, anchor_ms=ANCHOR_MS))
    location = store.locations[result.locations[0]["id"]]
    added = sorted(ms_from_iso(c["dateAdded"]) for c in store.contacts(location.id))
    assert added[-1] <= ANCHOR_MS and ANCHOR_MS - added[0] > 700 * 86_400_000
    assert ANCHOR_MS - added[0] <= 730 * 86_400_000
    created = ms_from_iso(location.record["dateAdded"])
    assert created < added[0]  # the location predates its contacts
    fields = list(location.collection("custom_fields"))
    assert all(created <= ms_from_iso(f["dateAdded"]) < added[0] for f in fields)
    email_field = next(f for f in fields if f["dataType"] == "EMAIL")
    values = [
        item["value"]
        for contact in store.contacts(location.id)
        for item in contact.get("customFields") or ()
        if item["id"] == email_field["id"]
    ]
    assert values and all("@" in value for value in values)


async def test_reset_takes_an_anchor_and_rejects_bad_numbers(emu: Emu) -> None:
    body = {"contacts": 30, "seed": 4, "anchor": ANCHOR}
    first = await emu.client.post("/_emulator/reset", json=body)
    assert first.status_code == 200, first.text
    listing = json.dumps(list(emu.store.contacts(first.json()["locations"][0]["id"])))
    again = await emu.client.post("/_emulator/reset", json=body)
    assert json.dumps(list(emu.store.contacts(again.json()["locations"][0]["id"]))) == listing
    bad = await emu.client.post("/_emulator/reset", json={"contacts": "many", "anchor": "soon"})
    assert bad.status_code == 422
    assert len(bad.json()["message"]) == 1  # the first problem found
    worse = await emu.client.post("/_emulator/reset", json={"anchor": "soon"})
    assert worse.status_code == 422 and "anchor" in worse.json()["message"][0]


async def test_seed_adds_contacts_and_locations_without_dropping_anything() -> None:
    emu = await make_emu(SeedOptions(locations=2, contacts=40, seed=6, anchor_ms=ANCHOR_MS))
    async with emu.client:
        loc = emu.loc()
        contacts = emu.store.contacts(loc)
        before = dict(contacts.items)
        made = await emu.create(email="kept@example.com")
        response = await emu.client.post(
            "/_emulator/seed", json={"contacts": 25, "locationId": loc}
        )
        assert response.status_code == 200, response.text
        assert len(contacts) == len(before) + 1 + 25
        assert all(contacts.get(key) == value for key, value in before.items())
        assert contacts.get(made["id"]) is not None
        emails = [c["email"] for c in contacts]
        assert len(emails) == len(set(emails))  # added contacts duplicate nobody
        other = emu.store.contacts(emu.loc(1))
        assert len(other) == 20  # only the location asked for
        grown = await emu.client.post("/_emulator/seed", json={"locations": 1, "contacts": 10})
        assert grown.status_code == 200, grown.text
        new = grown.json()["locations"][0]
        assert len(emu.store.locations) == 3 and len(emu.store.contacts(new["id"])) == 10
        seen = await emu.client.post(
            "/contacts/search",
            json={"locationId": new["id"], "pageLimit": 5},
            headers={"Authorization": f"Bearer {new['token']}", "Version": "2021-07-28"},
        )
        assert seen.status_code == 200 and seen.json()["total"] == 10
        refused = await emu.client.post("/_emulator/seed", json={"opportunities": 5})
        assert refused.status_code == 422


async def test_admin_limits_must_be_numbers(emu: Emu) -> None:
    for path in (
        "/_emulator/requests",
        "/_emulator/events",
        f"/_emulator/locations/{emu.loc()}/contacts",
    ):
        response = await emu.client.get(path, params={"limit": "ten"})
        assert response.status_code == 422, path
        assert response.json()["message"] == ["limit must be an integer number"]


def test_cli_refuses_a_bad_anchor() -> None:
    result = CliRunner().invoke(emulator_cli, ["--anchor", "yesterday", "--port", "0"])
    assert result.exit_code == 2
    flat = "".join(result.output.replace("\u2502", " ").split())  # unwrap rich's error box
    assert "anchormustbeanISOdate" in flat


async def test_an_invalid_email_and_phone_are_both_reported(emu: Emu) -> None:
    response = await emu.client.post(
        "/contacts/",
        json={"locationId": emu.loc(), "email": "not-an-email", "phone": "12"},
        headers=emu.headers(),
    )
    assert response.status_code == 422
    assert response.json()["message"] == [
        "email must be an email",
        "phone must be a valid phone number",
    ]
