"""Secrets in the emulator (issue 11 item 6): the request log keeps no client secret, token,
code or Authorization header; the admin token guards ``/_emulator`` and shows in no repr.

On main, ``GET /_emulator/requests`` showed ``/oauth/token``'s body as sent, client secret and
refresh token included.
"""

from __future__ import annotations

import json

import pytest

from ghlsync.emulator import EmulatorSettings, SeedOptions
from ghlsync.emulator.server import ServeError, check_exposure, is_loopback

from .conftest import Emu, make_emu


async def _code(emu: Emu) -> str:
    response = await emu.client.get(
        "/oauth/chooselocation",
        params={
            "response_type": "code",
            "client_id": emu.state.client_id,
            "redirect_uri": "http://127.0.0.1/callback",
            "locationId": emu.loc(),
        },
    )
    return response.headers["location"].split("code=")[1].split("&")[0]


async def test_the_request_log_redacts_every_oauth_secret(emu: Emu) -> None:
    code = await _code(emu)
    secret = emu.state.client_secret
    granted = await emu.client.post(
        "/oauth/token",
        data={
            "client_id": emu.state.client_id,
            "client_secret": secret,
            "grant_type": "authorization_code",
            "code": code,
        },
    )
    assert granted.status_code == 200
    refresh = granted.json()["refresh_token"]
    access = granted.json()["access_token"]
    # the same secrets as JSON, in camelCase, and in a query string
    rotated = await emu.client.post(
        "/oauth/token",
        json={
            "client_id": emu.state.client_id,
            "clientSecret": secret,
            "grant_type": "refresh_token",
            "refreshToken": refresh,
        },
    )
    assert rotated.status_code in (200, 401, 422)
    await emu.client.get(
        f"/locations/{emu.loc()}",
        params={"client_secret": secret, "keep": "me"},
        headers=emu.token_headers(access),
    )
    log = await emu.client.get("/_emulator/requests", params={"limit": 20})
    text = log.text
    for value in (secret, refresh, access, code, *(loc["token"] for loc in emu.state.locations)):
        assert value not in text
    records = log.json()["requests"]
    form = next(r for r in records if r["path"] == "/oauth/token" and isinstance(r["body"], str))
    assert (
        "client_secret=%5Bredacted%5D" in form["body"]
        and "grant_type=authorization_code" in form["body"]
    )
    as_json = next(
        r for r in records if isinstance(r["body"], dict) and "clientSecret" in r["body"]
    )
    assert as_json["body"]["clientSecret"] == as_json["body"]["refreshToken"] == "[redacted]"
    assert as_json["body"]["grant_type"] == "refresh_token"
    query = next(r for r in records if "keep=me" in r["query"])
    assert "client_secret=%5Bredacted%5D" in query["query"]


async def test_a_query_without_secrets_is_logged_byte_for_byte(emu: Emu) -> None:
    await emu.client.get(f"/contacts/?locationId={emu.loc()}&query=a%20b+c", headers=emu.headers())
    log = (await emu.client.get("/_emulator/requests", params={"limit": 1})).json()
    assert log["requests"][-1]["query"] == f"locationId={emu.loc()}&query=a%20b+c"


async def test_the_admin_token_guards_every_admin_route() -> None:
    emu = await make_emu(
        SeedOptions(locations=1, contacts=5, seed=2),
        EmulatorSettings(seed=2, rate_limit=None, admin_token="s3cret-admin"),
    )
    async with emu.client:
        for path in ("/_emulator/state", "/_emulator/requests", "/_emulator/openapi.json"):
            refused = await emu.client.get(path)
            assert refused.status_code == 401 and refused.json()["statusCode"] == 401
            wrong = await emu.client.get(path, headers={"X-Emulator-Admin": "s3cret-admiN"})
            assert wrong.status_code == 401
            ok = await emu.client.get(path, headers={"X-Emulator-Admin": "s3cret-admin"})
            assert ok.status_code == 200, path
        # HighLevel's surface is not behind the admin token
        api = await emu.client.get(f"/locations/{emu.loc()}", headers=emu.headers())
        assert api.status_code == 200


def test_the_admin_token_is_in_no_repr() -> None:
    settings = EmulatorSettings(admin_token="s3cret-admin")
    assert "s3cret-admin" not in repr(settings) and "s3cret-admin" not in str(settings)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("emulator.internal", False),
    ],
)
def test_which_hosts_need_an_admin_token(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_exposure(host, EmulatorSettings())
    else:
        with pytest.raises(ServeError, match="admin token") as caught:
            check_exposure(host, EmulatorSettings())
        assert "\n" not in str(caught.value) and "Hint: " in str(caught.value)
        check_exposure(host, EmulatorSettings(admin_token="t"))


def test_the_request_log_stays_json_for_any_body() -> None:
    from ghlsync.emulator.wire import logged_body

    assert logged_body(b'{"a": NaN}', complete=True) == '{"a": NaN}'
    assert logged_body(b"[" * 5000, complete=True) == "[" * 5000
    assert logged_body(b'{"token": "x", "n": [1]}', complete=True) == {
        "token": "[redacted]",
        "n": [1],
    }
    partial = logged_body(b"code=abc&state=1", complete=False)
    assert partial == "code=%5Bredacted%5D&state=1"
    json.dumps(logged_body(b"\xff\xfe", complete=True))  # renders


def test_emulator_server_refuses_a_public_host_without_a_token() -> None:
    from ghlsync.emulator import EmulatorServer

    server = EmulatorServer(SeedOptions(locations=1, contacts=1), host="0.0.0.0")
    with pytest.raises(ServeError, match="--admin-token"):
        server.start()
