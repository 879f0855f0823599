"""One payment order / transaction by id, users by email, contacts of a business."""

from __future__ import annotations

from tests.unit.emulator.conftest import Emu


async def test_one_order_and_one_transaction(emu: Emu) -> None:
    loc = emu.loc()
    orders = await emu.client.get(
        "/payments/orders", params={"altId": loc, "limit": 1}, headers=emu.headers()
    )
    order = orders.json()["data"][0]
    one = await emu.client.get(
        f"/payments/orders/{order['_id']}", params={"altId": loc}, headers=emu.headers()
    )
    assert one.status_code == 200 and one.json() == order
    alt = {"altId": loc, "altType": "location"}
    txns = await emu.client.get(
        "/payments/transactions", params={**alt, "limit": 1}, headers=emu.headers()
    )
    txn = txns.json()["data"][0]
    got = await emu.client.get(
        f"/payments/transactions/{txn['_id']}", params=alt, headers=emu.headers()
    )
    assert got.status_code == 200 and got.json() == txn
    missing = await emu.client.get(
        "/payments/orders/nope", params={"altId": loc}, headers=emu.headers()
    )
    assert missing.status_code == 404
    other = await emu.client.get(
        f"/payments/orders/{order['_id']}", params={"altId": emu.loc(1)}, headers=emu.headers()
    )
    assert other.status_code == 403
    no_type = await emu.client.get(
        f"/payments/transactions/{txn['_id']}", params={"altId": loc}, headers=emu.headers()
    )
    assert no_type.status_code == 422


async def test_users_filtered_by_email(emu: Emu) -> None:
    users = await emu.client.get("/users/", params={"locationId": emu.loc()}, headers=emu.headers())
    first, second = users.json()["users"][:2]
    body = {
        "companyId": emu.state.company_id,
        "emails": f"{first['email'].upper()}, {second['email']},nobody@example.com",
    }
    found = await emu.client.post("/users/search/filter-by-email", json=body, headers=emu.agency)
    assert found.status_code == 200, found.text
    answer = found.json()
    assert answer["count"] == 2
    assert {user["id"] for user in answer["users"]} == {first["id"], second["id"]}
    assert all(set(user) == {"id", "email"} for user in answer["users"])
    full = await emu.client.post(
        "/users/search/filter-by-email",
        json={**body, "projection": "all", "limit": "1"},
        headers=emu.agency,
    )
    assert len(full.json()["users"]) == 1 and "roles" in full.json()["users"][0]
    bad = await emu.client.post(
        "/users/search/filter-by-email", json={**body, "limit": "ten"}, headers=emu.agency
    )
    assert bad.status_code == 422
    location_token = await emu.client.post(
        "/users/search/filter-by-email", json=body, headers=emu.headers()
    )
    assert location_token.status_code == 401


async def test_contacts_of_a_business(emu: Emu) -> None:
    businesses = await emu.client.get(
        "/businesses/", params={"locationId": emu.loc()}, headers=emu.headers()
    )
    business_id = businesses.json()["businesses"][0]["id"]
    made = [await emu.create(email=f"staff{n}@example.com") for n in range(3)]
    for contact in made:  # HighLevel links contacts with POST /contacts/bulk/business
        linked = await emu.client.patch(
            f"/_emulator/locations/{emu.loc()}/contacts/{contact['id']}",
            json={"businessId": business_id},
        )
        assert linked.status_code == 200, linked.text
    await emu.create(email="elsewhere@example.com")
    response = await emu.client.get(
        f"/contacts/business/{business_id}",
        params={"locationId": emu.loc(), "limit": 2},
        headers=emu.headers(),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["count"] == 3
    assert [c["id"] for c in answer["contacts"]] == [c["id"] for c in made[:2]]
    rest = await emu.client.get(
        f"/contacts/business/{business_id}",
        params={"locationId": emu.loc(), "skip": 2, "query": "staff2"},
        headers=emu.headers(),
    )
    assert [c["id"] for c in rest.json()["contacts"]] == []
    searched = await emu.client.get(
        f"/contacts/business/{business_id}",
        params={"locationId": emu.loc(), "query": "staff2"},
        headers=emu.headers(),
    )
    assert [c["id"] for c in searched.json()["contacts"]] == [made[2]["id"]]
