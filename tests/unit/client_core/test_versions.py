"""The Version header per endpoint family, checked against every spec's ``Version`` enum."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ghlsync.client.versions import version_for

APPS = Path(__file__).resolve().parents[3] / ".." / "shared" / "ghl-api" / "apps"
METHODS = {"get", "post", "put", "patch", "delete"}
# The v3 ad-publishing spec still lists the dated version; HighLevel's SDK 3.x sends v3 there.
V3_QUIRKS = {"ad-publishing"}
# oauth-v3.json lists ``Version: v3`` on POST /oauth/token; v2 lists none and the token endpoint
# is shared by both, so the client sends none there in either mode (decided in versions.py).
V3_NO_VERSION = {("POST", "/oauth/token")}


def _operations(folder: Path) -> Iterator[tuple[str, str, str, tuple[str, ...] | None]]:
    for spec_file in sorted(folder.glob("*.json")):
        spec: dict[str, Any] = json.loads(spec_file.read_text())
        shared = spec.get("components", {}).get("parameters", {})
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                if method not in METHODS:
                    continue
                enum: tuple[str, ...] | None = None
                for parameter in operation.get("parameters", []):
                    if "$ref" in parameter:
                        parameter = shared.get(parameter["$ref"].rsplit("/", 1)[-1], {})
                    if parameter.get("in") == "header" and parameter.get("name") == "Version":
                        schema = parameter.get("schema", {})
                        enum = tuple(schema.get("enum") or [schema.get("default")])
                yield spec_file.name, method.upper(), path, enum


def _require_specs() -> None:
    if not APPS.is_dir():
        pytest.skip(f"no OpenAPI specs at {APPS} (../shared is absent)")


def test_every_v2_operation_gets_a_version_its_spec_accepts() -> None:
    _require_specs()
    checked = 0
    wrong = []
    for name, method, path, enum in _operations(APPS):
        if enum is None:
            continue  # the spec declares no Version header for this operation
        checked += 1
        sent = version_for(method, path, "v2")
        if sent not in enum:
            wrong.append(f"{name} {method} {path}: sent {sent}, spec allows {enum}")
    assert checked > 400
    assert not wrong, "\n".join(wrong)


def test_every_v3_operation_gets_v3() -> None:
    _require_specs()
    checked = 0
    for name, method, path, enum in _operations(APPS / "v3"):
        if enum is None or path.split("/")[1] in V3_QUIRKS or (method, path) in V3_NO_VERSION:
            continue
        checked += 1
        assert version_for(method, path, "v3") in enum, f"{name} {method} {path}"
    assert checked > 400


@pytest.mark.parametrize(
    ("method", "path", "api", "expected"),
    [
        ("GET", "/contacts/abc", "v2", "2021-07-28"),
        ("POST", "/contacts/search", "v2", "2021-07-28"),
        ("GET", "/calendars/events", "v2", "2021-04-15"),
        ("GET", "/conversations/search?x=1", "v2", "2021-04-15"),
        ("GET", "calendars/", "v2", "2021-04-15"),
        ("POST", "/oauth/token", "v2", None),
        ("POST", "/oauth/token", "v3", None),
        ("POST", "/oauth/locationToken", "v2", "2021-07-28"),
        ("GET", "/calendars/events", "v3", "v3"),
        ("GET", "/links/search", "v2", "2021-04-15"),
        ("GET", "/links/", "v2", "2021-07-28"),
    ],
)
def test_version_for(method: str, path: str, api: str, expected: str | None) -> None:
    assert version_for(method, path, api) == expected


def test_unknown_api_version_is_refused() -> None:
    with pytest.raises(ValueError, match="api_version"):
        version_for("GET", "/contacts/", "v9")
