"""Fixtures: an emulator on a real socket, a GHLSYNC_HOME per test, push helpers."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghlsync.config import Settings
from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions
from ghlsync.mapping import parse_mapping
from ghlsync.push import PushConfig, PushResult, run_push


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    options = SeedOptions(locations=2, contacts=20, opportunities=0, seed=5)
    with EmulatorServer(options, EmulatorSettings(rate_limit=None)) as emulator:
        yield emulator


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("GHLSYNC_HOME", str(path))
    return path


def admin(server: EmulatorServer, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{server.base_url}/_emulator{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response.json()


def loc(server: EmulatorServer, index: int = 0) -> str:
    return str(server.state.locations[index]["id"])


def token(server: EmulatorServer, index: int = 0) -> str:
    return str(server.state.locations[index]["token"])


def contacts(server: EmulatorServer, index: int = 0) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = admin(
        server, "GET", f"/locations/{loc(server, index)}/contacts", params={"limit": 100000}
    )["items"]
    return items


def by_email(server: EmulatorServer, index: int = 0) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for contact in contacts(server, index):
        if contact.get("email"):
            found.setdefault(contact["email"], []).append(contact)
    return found


def set_duplicates(server: EmulatorServer, allowed: bool, index: int = 0) -> None:
    admin(
        server,
        "PUT",
        f"/locations/{loc(server, index)}/settings",
        json={"allowDuplicateContact": allowed},
    )


def write_calls(server: EmulatorServer) -> int:
    """API calls other than reads (writes of any kind) the emulator has answered."""
    ops = admin(server, "GET", "/counts")["operations"]
    total = 0
    for name, statuses in ops.items():
        method = name.split(" ", 1)[0]
        if method in ("POST", "PUT", "DELETE") and "search" not in name:
            total += sum(statuses.values())
    return total


def all_calls(server: EmulatorServer) -> int:
    ops = admin(server, "GET", "/counts")["operations"]
    return sum(sum(statuses.values()) for statuses in ops.values())


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def people(count: int, *, start: int = 0, tag: str = "synced") -> list[dict[str, Any]]:
    return [
        {
            "email": f"person{i}@push.example.com",
            "first_name": f"Person{i}",
            "company": f"Company {i % 7}",
            "membership_status": ("active", "paused")[i % 2],
            "segment": tag,
        }
        for i in range(start, start + count)
    ]


MAPPING = {
    "fields": {"email": "email", "firstName": "first_name", "companyName": "company"},
    "custom_fields": {"contact.membership_status": "membership_status"},
    "tags_from": ["segment"],
}


def push(
    server: EmulatorServer,
    source: Path | str,
    home: Path,
    *,
    index: int = 0,
    mapping: dict[str, Any] | None = None,
    **options: Any,
) -> PushResult:
    options.setdefault("rate_limit", False)
    config = PushConfig(
        source=str(source),
        mapping=parse_mapping(MAPPING if mapping is None else mapping),
        locations=options.pop("locations", (loc(server, index),)),
        tokens=options.pop(
            "tokens", {loc(server, i): token(server, i) for i in range(len(server.state.locations))}
        ),
        base_url=server.base_url,
        **options,
    )
    return run_push(config, settings=Settings(base_url=server.base_url, home=home))
