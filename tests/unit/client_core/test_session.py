"""The run session's pure parts: the connection value and the token resolution order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

from ghlsync.client import TokenRecord, TokenStore
from ghlsync.client.auth import Scope
from ghlsync.client.connection import CONNECTION_KEYS, Connection
from ghlsync.client.resolution import TokenChain
from ghlsync.client.session import RunSession, open_session
from ghlsync.config import Settings
from ghlsync.errors import ConfigError

SECRET = "pit-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"locations": [{"id": "a", "tokn": SECRET}]}, "unknown key 'tokn' in locations[0]"),
        ({"oauth": {"client_idd": "x"}}, "unknown key 'client_idd' in oauth"),
        ({"tokens": {}}, "unknown key 'tokens'"),
        ({"locations": ["a", {"id": "b", "extra": 1}]}, "unknown key 'extra' in locations[1]"),
        ({"locations": "a"}, "locations: a list of"),
        ({"burst": 0}, "burst: Input should be greater than 0"),
        ({"installed": True}, "installed locations need an OAuth app"),
        ({"locations": ["a", "a"]}, "locations listed twice: a"),
        ({"api_version": "v9"}, "api_version"),
    ],
)
def test_bad_connections_are_refused_in_one_line(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Connection.from_mapping(data)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert SECRET not in text and SECRET not in repr(caught.value)


def test_connection_is_frozen_and_hides_tokens() -> None:
    connection = Connection.from_mapping(
        {"token": SECRET, "locations": ["a", {"id": "b", "token": SECRET}], "burst": "50"}
    )
    assert connection.location_ids == ("a", "b")
    assert connection.location_tokens() == {"b": SECRET}
    assert connection.burst == 50
    assert SECRET not in repr(connection) and SECRET not in str(connection)
    with pytest.raises(pydantic.ValidationError):
        connection.burst = 10  # type: ignore[misc]
    assert Connection.from_mapping({"location_ids": ["x"]}).location_ids == ("x",)
    assert "location_ids" in CONNECTION_KEYS and "oauth" in CONNECTION_KEYS


def test_connection_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHL_TOKEN", SECRET)
    monkeypatch.setenv("GHL_BASE_URL", "http://env.test")
    connection = Connection.from_mapping({"locations": ["a"]})
    assert connection.token is None and connection.base_url is None


def _store_with(path: Path, location_id: str, token: str) -> None:
    store = TokenStore(path)
    store.put(TokenRecord(kind="private", location_id=location_id, access_token=token))
    store.close()


async def test_token_resolution_order(tmp_path: Path) -> None:
    """flag > config (location's, then default) > token store > environment."""
    _store_with(tmp_path / "tokens.sqlite3", "stored", "pit-from-store")
    store = TokenStore(tmp_path / "tokens.sqlite3")
    full = TokenChain(
        flag="pit-flag",
        config_token="pit-config",
        config_tokens={"own": "pit-own"},
        store=store,
        env="pit-env",
    )
    assert await full.token_for(Scope("own")) == "pit-flag"
    no_flag = TokenChain(
        config_token="pit-config", config_tokens={"own": "pit-own"}, store=store, env="pit-env"
    )
    assert await no_flag.token_for(Scope("own")) == "pit-own"
    assert await no_flag.token_for(Scope("stored")) == "pit-config"
    store_env = TokenChain(store=store, env="pit-env")
    assert await store_env.token_for(Scope("stored")) == "pit-from-store"
    assert await store_env.token_for(Scope("other")) == "pit-env"
    assert store_env.source("stored") == "store" and store_env.source("other") == "env"
    with pytest.raises(ConfigError, match="auth add-token"):
        await TokenChain(store=store).token_for(Scope("other"))
    assert "pit-" not in repr(full)
    store.close()


def _settings(tmp_path: Path, **kwargs: Any) -> Settings:
    return Settings(home=tmp_path, base_url="http://settings.test", **kwargs)


async def test_session_uses_settings_and_one_limiter(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers["Authorization"]))
        return httpx.Response(
            200,
            json={"contacts": [], "total": 0},
            headers={"X-RateLimit-Remaining": "77", "X-RateLimit-Max": "100"},
        )

    connection = Connection.from_mapping({"locations": ["loc1"], "burst": 100})
    settings = _settings(tmp_path, token=SECRET)
    async with open_session(settings, connection, transport=httpx.MockTransport(answer)) as session:
        assert isinstance(session, RunSession)
        assert await session.locations() == ["loc1"]
        assert await session.locations(["x", "y"]) == ["x", "y"]
        assert session.budget("loc1") is None
        await session.client.request("GET", "/contacts/", location_id="loc1")
        other = session.new_client()
        assert other.limiter is session.client.limiter is session.limiter
        await other.aclose()
        snapshot = session.budget("loc1")
        assert snapshot is not None and snapshot.remaining <= 77
        assert session.token_source("loc1") == "env"
        assert SECRET not in repr(session)
    assert seen == [("http://settings.test/contacts/", f"Bearer {SECRET}")]
    assert (tmp_path / "ratelimit.sqlite3").exists()  # the daily counts were flushed


def test_session_refuses_oauth_without_credentials(tmp_path: Path) -> None:
    connection = Connection.from_mapping({"oauth": {"company_id": "c1"}, "installed": True})
    with pytest.raises(ConfigError, match="oauth needs a client id"):
        open_session(_settings(tmp_path), connection)
    # the environment's app completes the config's
    session = open_session(_settings(tmp_path, client_id="app-1", client_secret="s"), connection)
    assert session.identity == "app:app-1"
    session.close()


async def test_no_locations_is_a_config_error(tmp_path: Path) -> None:
    async with open_session(_settings(tmp_path), Connection()) as session:
        with pytest.raises(ConfigError, match="no locations configured"):
            await session.locations()
    with pytest.raises(RuntimeError, match="closed"):
        session.new_client()
