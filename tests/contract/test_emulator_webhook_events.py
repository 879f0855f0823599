"""Every webhook event kind the emulator emits, validated against HighLevel's docs
(``../shared/ghl-api/docs/webhook events/<Type>.md``).

A doc's ``json json_schema`` blocks are JSON Schemas (several: any of them); a doc without
one gives its schema as a map of field -> type name (``"string"``, ``"boolean"``, nested
objects), turned into a JSON Schema here; failing both, its example's keys and value types are
the schema. The kinds come from the emulator's source (every ``emit("<Type>"``), so a new
event kind fails this test until it is exercised and conforms.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from ghlsync.emulator import EmulatorSettings, SeedOptions, build, create_app
from tests.contract.test_emulator_conformance import APPS, Scenario, _exercise

DOCS = APPS.parent / "docs" / "webhook events"
SOURCE = Path(__file__).resolve().parents[2] / "src" / "ghlsync" / "emulator"
_TYPE_NAMES = {"string", "boolean", "number", "integer", "array", "object"}


def emitted_kinds() -> set[str]:
    """The event types the emulator's source can emit."""
    kinds = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        kinds |= set(re.findall(r'emit\(\s*"([A-Za-z]+)"', text))
    return kinds


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(json[^\n]*)\n(.*?)```", text, flags=re.S)


def _from_type_map(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {
            "type": "object",
            "properties": {key: _from_type_map(item) for key, item in value.items()},
        }
    if isinstance(value, list):
        return {"type": "array", "items": _from_type_map(value[0]) if value else {}}
    if isinstance(value, str) and value in _TYPE_NAMES:
        return {"type": value}
    return {}


def _from_example(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {
            "type": "object",
            "properties": {key: _from_example(item) for key, item in value.items()},
        }
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int | float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array"}
    return {}


def _loads(text: str) -> Any:
    """JSON of a doc block, with two doc typos mended: a trailing comma before ``}``/``]``
    (RelationDelete.md) is dropped, and so is a boolean ``required`` on a property
    (ObjectSchemaCreate/Update.md; JSON Schema wants a list of names)."""
    return _mend(json.loads(re.sub(r",(\s*[}\]])", r"\1", text)))


def _mend(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _mend(value)
            for key, value in node.items()
            if not (key == "required" and isinstance(value, bool))
        }
    if isinstance(node, list):
        return [_mend(item) for item in node]
    return node


def doc_schema(kind: str) -> dict[str, Any]:
    """The documented schema of one event kind."""
    text = (DOCS / f"{kind}.md").read_text()
    blocks = _blocks(text)
    schemas = [_loads(body) for fence, body in blocks if "json_schema" in fence]
    if schemas:
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    _, _, rest = text.partition("#### Schema")
    if rest:
        typed = _blocks(rest)
        if typed:
            return _from_type_map(json.loads(typed[0][1]))
    return _from_example(json.loads(blocks[0][1]))


def test_the_schema_reader_catches_a_wrong_type() -> None:
    schema = doc_schema("TaskCreate")
    jsonschema.validate({"type": "TaskCreate", "body": "x"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": "TaskCreate", "body": None}, schema)
    typed = doc_schema("UserCreate")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": "UserCreate", "permissions": {"tagsEnabled": "yes"}}, typed)


@pytest.fixture(scope="module")
def events() -> list[tuple[str, dict[str, Any]]]:
    """The events the conformance scenario and a few extra writes emit."""
    store, state = build(SeedOptions(locations=2, contacts=30, opportunities=20, seed=3))
    app = create_app(
        store,
        EmulatorSettings(
            seed=3, rate_limit=None, search_index_delay_ms=0, opportunity_filter_search=True
        ),
    )

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            await _exercise(Scenario(client), state)
            loc = state.locations[0]["id"]
            headers = {
                "Authorization": f"Bearer {state.locations[0]['token']}",
                "Version": "2021-07-28",
            }
            made = await client.post(
                "/contacts/",
                json={"locationId": loc, "email": "hooks@example.com", "tags": ["a"]},
                headers=headers,
            )
            contact_id = made.json()["contact"]["id"]
            await client.put(
                f"/contacts/{contact_id}", json={"dnd": True, "tags": ["b"]}, headers=headers
            )
            await client.post(
                f"/contacts/{contact_id}/tasks",
                json={"title": "no body", "dueDate": "2027-01-01T00:00:00Z", "completed": True},
                headers=headers,
            )
            found = await client.get(
                "/opportunities/search", params={"location_id": loc}, headers=headers
            )
            users = await client.get("/users/", params={"locationId": loc}, headers=headers)
            opportunity = found.json()["opportunities"][0]
            user_id = next(
                user["id"]
                for user in users.json()["users"]
                if user["id"] != opportunity.get("assignedTo")
            )
            await client.put(
                f"/opportunities/{opportunity['id']}",
                json={"assignedTo": user_id},
                headers=headers,
            )

    asyncio.run(run())
    return [(kind, body) for kind, _, body in store.events]


def test_every_emitted_kind_is_documented_and_exercised(
    events: list[tuple[str, dict[str, Any]]],
) -> None:
    kinds = emitted_kinds()
    assert len(kinds) > 15
    undocumented = sorted(kind for kind in kinds if not (DOCS / f"{kind}.md").exists())
    assert undocumented == []
    missing = sorted(kinds - {kind for kind, _ in events})
    assert missing == [], f"event kinds the test does not trigger: {missing}"


def test_every_event_matches_its_documented_schema(
    events: list[tuple[str, dict[str, Any]]],
) -> None:
    schemas = {kind: doc_schema(kind) for kind in {kind for kind, _ in events}}
    problems = []
    for kind, body in events:
        assert body["type"] == kind
        try:
            jsonschema.validate(body, schemas[kind])
        except jsonschema.ValidationError as exc:
            problems.append(f"{kind}: {exc.message} at {list(exc.absolute_path)}")
    assert problems == [], "\n".join(sorted(set(problems)))
