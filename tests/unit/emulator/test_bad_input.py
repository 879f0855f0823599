"""Bad input gets HighLevel's 4xx, never a 5xx or a broken emulator (issue 11 item 5).

Each case was measured on main as a 500 (or worse: a clock broken until restart, a 10 MB body
stored, ``text/plain`` read as JSON). The answers follow NestJS, HighLevel's framework:
``{"statusCode": ..., "message": ..., "error": ...}`` with 400 (unreadable JSON), 413 (too
large), 415 (not JSON), 422 (a field of the wrong type or out of range).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ghlsync.emulator.common import ApiError
from ghlsync.emulator.wire import MAX_DEPTH, depth_of, parse_json

from .conftest import Emu

JSON = {"Content-Type": "application/json"}


def _nest(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    body: dict[str, Any] = response.json()
    assert body["statusCode"] == status and body["message"] and body["error"]
    return body


async def _still_serves(emu: Emu) -> None:
    response = await emu.client.get(f"/locations/{emu.loc()}", headers=emu.headers())
    assert response.status_code == 200, response.text[:300]
    assert emu.store.counters.get("server_errors", 0) == 0


async def test_an_infinite_clock_advance_is_refused_and_the_clock_keeps_working(emu: Emu) -> None:
    before = emu.store.clock.offset_seconds
    refused = await emu.client.post(
        "/_emulator/clock/advance", content=b'{"seconds": 1e400}', headers=JSON
    )
    assert "out of range" in _error(refused, 400)["message"]
    for seconds in (1e300, -1e300, 4e9):
        too_far = await emu.client.post("/_emulator/clock/advance", json={"seconds": seconds})
        _error(too_far, 422)
    assert emu.store.clock.offset_seconds == before
    # steps that each fit but add up past the bound are refused too
    ok = await emu.client.post("/_emulator/clock/advance", json={"seconds": 3e9})
    assert ok.status_code == 200
    _error(await emu.client.post("/_emulator/clock/advance", json={"seconds": 3e9}), 422)
    await _still_serves(emu)
    assert (await emu.client.post("/_emulator/reset", json={})).status_code == 200
    await _still_serves(emu)


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/_emulator/clock/advance",
            {"seconds": "ten"},
            "seconds must be a number conforming to the specified constraints",
        ),
        ("/_emulator/clock/advance", {"seconds": True}, "seconds must be a number"),
        ("/_emulator/tokens", {"ttlSeconds": "x"}, "ttlSeconds must be a number"),
        ("/_emulator/tokens", {"scopes": 5}, "scopes must be an array"),
        ("/_emulator/tokens", {"scopes": [1]}, "each value in scopes must be a string"),
        ("/_emulator/tokens", {"locationId": 7}, "locationId must be a string"),
        ("/_emulator/tokens/expire", {"tokens": "abc"}, "tokens must be an array"),
        ("/_emulator/seed", {"contacts": 10**12}, "contacts must not be greater than"),
        ("/_emulator/reset", {"anchor": 10**20}, "anchor must lie within the years"),
        ("/_emulator/reset", {"anchor": "0358-11-05"}, "anchor must lie within the years"),
        ("/_emulator/reset", {"locations": -1}, "locations must not be less than 0"),
    ],
)
async def test_admin_posts_with_wrong_types_get_422(
    emu: Emu, path: str, body: dict[str, Any], message: str
) -> None:
    response = await emu.client.post(path, json=body)
    assert message in " ".join(_error(response, 422)["message"])
    await _still_serves(emu)


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/_emulator/faults", {"faults": "500:0.1", "seed": "x"}, "seed must be an integer"),
        ("/_emulator/faults", {"faults": 5}, "faults must be a string"),
        ("/_emulator/settings", {"dailyLimit": 1e30}, "dailyLimit must be an integer"),
        ("/_emulator/settings", {"timeoutFaultSeconds": "x"}, "timeoutFaultSeconds must be"),
        ("/_emulator/settings", {"retryAfter": "no"}, "retryAfter must be a boolean"),
        ("/_emulator/settings", {"rateLimit": {"max": "x"}}, "max must be an integer"),
        ("/_emulator/settings", {"rateLimit": [1]}, "rateLimit must be a string"),
        ("/_emulator/settings", {"nope": 1}, "property nope should not exist"),
    ],
)
async def test_admin_puts_with_wrong_types_get_422_and_change_nothing(
    emu: Emu, path: str, body: dict[str, Any], message: str
) -> None:
    before = (await emu.client.get("/_emulator/settings")).json()
    response = await emu.client.put(path, json=body)
    assert message in " ".join(_error(response, 422)["message"])
    assert (await emu.client.get("/_emulator/settings")).json() == before
    await _still_serves(emu)


async def test_location_settings_refuse_wrong_types(emu: Emu) -> None:
    path = f"/_emulator/locations/{emu.loc()}/settings"
    _error(await emu.client.put(path, json={"priority": 5}), 422)
    _error(await emu.client.put(path, json={"allowDuplicateContact": "yes"}), 422)
    await _still_serves(emu)


async def test_a_nan_body_is_400_and_the_request_log_still_renders(emu: Emu) -> None:
    body = b'{"locationId": "%s", "firstName": NaN}' % emu.loc().encode()
    response = await emu.client.post("/contacts/", content=body, headers={**emu.headers(), **JSON})
    assert "NaN" in _error(response, 400)["message"]
    log = await emu.client.get("/_emulator/requests", params={"limit": 5})
    assert log.status_code == 200
    logged = log.json()["requests"][-1]
    assert logged["status"] == 400 and isinstance(logged["body"], str) and "NaN" in logged["body"]


@pytest.mark.parametrize(
    ("method", "path", "admin"),
    [
        ("POST", "/contacts/", False),
        ("POST", "/contacts/search", False),
        ("PUT", "/contacts/{contact}", False),
        ("POST", "/opportunities/", False),
        ("POST", "/_emulator/reset", True),
        ("POST", "/_emulator/tokens", True),
    ],
)
async def test_json_nested_100_000_deep_is_400(
    emu: Emu, method: str, path: str, admin: bool
) -> None:
    contact = next(iter(emu.store.contacts(emu.loc()).items))
    headers = JSON if admin else {**emu.headers(), **JSON}
    response = await emu.client.request(
        method, path.format(contact=contact), content=_nest(100_000), headers=headers
    )
    assert "nested deeper" in _error(response, 400)["message"]
    log = await emu.client.get("/_emulator/requests", params={"limit": 1})
    assert log.status_code == 200
    await _still_serves(emu)


def test_the_parser_refuses_exactly_past_the_depth_limit() -> None:
    assert depth_of(parse_json(_nest(MAX_DEPTH))) == MAX_DEPTH
    with pytest.raises(ApiError, match="nested deeper"):
        parse_json(_nest(MAX_DEPTH + 1))
    for text in ("NaN", "[Infinity]", '{"a": -Infinity}', "1e400", "-1e999"):
        with pytest.raises(ApiError, match=r"not valid JSON|out of range"):
            parse_json(text)
    assert parse_json('{"a": 1.5e300}') == {"a": 1.5e300}


async def test_a_start_after_no_date_can_hold_is_422(emu: Emu) -> None:
    response = await emu.client.get(
        "/opportunities/search",
        params={"location_id": emu.loc(), "startAfter": "99999999999999999999999"},
        headers=emu.headers(),
    )
    assert _error(response, 422)["message"] == ["startAfter must be a valid date"]
    await _still_serves(emu)


async def test_a_body_past_the_limit_is_413_and_nothing_is_stored(emu: Emu) -> None:
    contacts = emu.store.contacts(emu.loc())
    before = len(contacts)
    name = "a" * 10_000_000
    body = json.dumps({"locationId": emu.loc(), "firstName": name}).encode()
    response = await emu.client.post("/contacts/", content=body, headers=emu.headers())
    assert _error(response, 413)["error"] == "Payload Too Large"
    assert len(contacts) == before
    # the limit is a setting: raised, the same body is read (and refused for what it says)
    changed = await emu.client.put("/_emulator/settings", json={"maxBodyBytes": 20_000_000})
    assert changed.json()["maxBodyBytes"] == 20_000_000
    again = await emu.client.post("/contacts/", content=body, headers=emu.headers())
    assert again.status_code != 413
    # a limit of one byte applies to HighLevel's routes, never to the admin API that lifts it
    await emu.client.put("/_emulator/settings", json={"maxBodyBytes": 1})
    small = {"locationId": emu.loc(), "firstName": "x"}
    _error(await emu.client.post("/contacts/", json=small, headers=emu.headers()), 413)
    lifted = await emu.client.put("/_emulator/settings", json={"maxBodyBytes": 1 << 20})
    assert lifted.status_code == 200
    assert (
        await emu.client.post("/contacts/", json=small, headers=emu.headers())
    ).status_code == 201


async def test_a_streamed_body_past_the_limit_is_413_without_a_content_length(emu: Emu) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100_000

    response = await emu.client.post("/contacts/", content=chunks(), headers=emu.headers())
    _error(response, 413)


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/xml"])
async def test_a_body_not_sent_as_json_is_415_and_nothing_is_created(
    emu: Emu, content_type: str | None
) -> None:
    contacts = emu.store.contacts(emu.loc())
    before = len(contacts)
    headers = {key: value for key, value in emu.headers().items()}
    if content_type:
        headers["Content-Type"] = content_type
    body = json.dumps({"locationId": emu.loc(), "firstName": "Plain"})
    response = await emu.client.post("/contacts/", content=body, headers=headers)
    assert _error(response, 415)["error"] == "Unsupported Media Type"
    assert len(contacts) == before
    ok = await emu.client.post(
        "/contacts/",
        content=body,
        headers={**emu.headers(), "Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 201, ok.text


async def test_an_unexpected_error_is_a_json_500_with_rate_limit_headers(
    emu: Emu, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(emu.store, "expire_tokens", explode)
    admin = await emu.client.post("/_emulator/tokens/expire", json={})
    assert admin.json()["statusCode"] == 500 and admin.json()["error"] == "Internal Server Error"
    monkeypatch.setattr(emu.store, "contacts", explode)
    api = await emu.client.get(
        "/contacts/", params={"locationId": emu.loc()}, headers=emu.headers()
    )
    assert _error(api, 500)["message"] == "Internal server error"
    assert "x-ratelimit-remaining" in api.headers
    assert emu.store.counters["server_errors"] == 2
