"""``ExtractConfig``: a frozen, validated value (no I/O, no environment, never mutated)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ghlsync.errors import ConfigError
from ghlsync.extract.config import CONFIG_KEYS, ExtractConfig

SECRET = "pit-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"


def test_config_is_frozen_and_read_only() -> None:
    config = ExtractConfig.of(["a", "b"], tokens={"b": SECRET}, streams=["contacts"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.streams = ("users",)  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.tokens["a"] = "x"  # type: ignore[index]
    listed = config.locations
    listed.append("c")
    assert config.locations == ["a", "b"]
    assert SECRET not in repr(config) and SECRET not in str(config)


def test_replace_makes_a_new_value() -> None:
    config = ExtractConfig.of(["a", "b"], tokens={"a": "pit-a", "b": "pit-b"}, rate_limit=False)
    changed = config.replace(start_date="2026-01-01", locations=["a"], page_size=50)
    assert (changed.start_date, changed.locations, changed.page_size) == ("2026-01-01", ["a"], 50)
    assert changed.tokens == {"a": "pit-a"} and not changed.rate_limit
    assert config.start_date is None and config.locations == ["a", "b"]
    assert changed.replace(tokens={"a": "pit-new"}).tokens == {"a": "pit-new"}
    with pytest.raises(TypeError, match="unknown fields"):
        config.replace(tokn={})


def test_the_environment_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHL_TOKEN", SECRET)
    monkeypatch.setenv("GHL_BASE_URL", "http://env.test")
    monkeypatch.setenv("GHL_CLIENT_ID", "app")
    monkeypatch.setenv("GHL_CLIENT_SECRET", "s")
    config = ExtractConfig.from_mapping({"locations": ["a"], "oauth": {}})
    assert config.token is None and config.base_url is None
    assert config.oauth is not None and config.oauth.client_id is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"locations": [{"id": "a", "tokn": SECRET}]}, "unknown key 'tokn' in locations[0]"),
        ({"locations": ["a"], "oauth": {"secret": SECRET}}, "unknown key 'secret' in oauth"),
        ({"locations": ["a"], "stream": ["contacts"]}, "unknown config keys ['stream']"),
        ({"locations": []}, "no locations configured"),
        ({"locations": ["a"], "start_date": "soon"}, "not an ISO date"),
        ({"locations": ["a"], "page_size": 0}, "page_size must be positive"),
        ({"locations": ["a"], "streams": "contacts"}, "streams must be a list"),
    ],
)
def test_bad_configs_are_one_line(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ExtractConfig.from_mapping(data)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert SECRET not in str(caught.value)


def test_python_arguments_are_validated_like_a_file() -> None:
    with pytest.raises(ConfigError, match="tokens given for locations not listed: z"):
        ExtractConfig.of(["a"], tokens={"z": "pit-z"})
    config = ExtractConfig.of(["a"], overlap=dt.timedelta(seconds=30))
    assert config.overlap == dt.timedelta(seconds=30)
    assert {"streams", "overlap_seconds", "locations", "oauth", "installed"} <= CONFIG_KEYS
