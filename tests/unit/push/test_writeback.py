"""Write-back changes parsed from the CLI and JSONL: refused before anything is sent."""

from __future__ import annotations

import json

import pytest

from ghlsync.errors import ConfigError
from ghlsync.mapping import FieldDef, load_mapping
from ghlsync.push.writeback import ContactChange, _payload, read_changes


def test_a_change_names_one_contact_and_something_to_do() -> None:
    with pytest.raises(ConfigError, match="by its id or by --email"):
        ContactChange(contact_id="c1", email="a@b.io", add_tags=("x",))
    with pytest.raises(ConfigError, match="nothing to change"):
        ContactChange(contact_id="c1")
    with pytest.raises(ConfigError, match="both added and removed: x"):
        ContactChange(contact_id="c1", add_tags=("x",), remove_tags=("x",))


def test_jsonl_changes_every_bad_line_named() -> None:
    lines = [
        json.dumps({"id": "c1", "add_tags": ["a"], "note": "hi"}),
        "",
        "{not json",
        json.dumps({"email": "a@b.io", "tags": ["x"]}),
        json.dumps({"email": "a@b.io", "set": ["x"]}),
    ]
    with pytest.raises(ConfigError) as info:
        read_changes(lines)
    message = str(info.value)
    assert "line 3: not valid JSON" in message
    assert "line 4: unknown keys tags" in message
    assert "line 5: set must be an object" in message
    ok = read_changes(lines[:2])
    assert ok == [ContactChange(contact_id="c1", add_tags=("a",), note="hi")]


def test_set_values_are_coerced_like_a_push() -> None:
    defs = [
        FieldDef("f1", "contact.call_notes", "LARGE_TEXT", "Call Notes"),
        FieldDef("f2", "contact.membership_status", "SINGLE_OPTIONS", "Status", ("active",)),
    ]
    payload = _payload(
        {"contact.call_notes": " keep\n", "membership_status": "ACTIVE", "phone": "4155552671"},
        defs,
    )
    assert payload == {
        "phone": "+14155552671",
        "customFields": [
            {"id": "f1", "field_value": " keep\n"},
            {"id": "f2", "field_value": "active"},
        ],
    }
    with pytest.raises(ConfigError) as info:
        _payload({"membership_status": "gone", "Call Notes": "x", "email": "nope"}, defs)
    assert "display name, not its key" in str(info.value)


def test_load_mapping_can_leave_field_checks_to_compile(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "m.yaml"
    path.write_text("fields: {fistName: x}\n")
    with pytest.raises(ConfigError, match="fistName"):
        load_mapping(path)
    assert load_mapping(path, check=False).fields == {"fistName": "x"}
