"""The pure plan: rows + ledger -> actions, without I/O."""

from __future__ import annotations

import ast
from pathlib import Path

from ghlsync.mapping import compile_mapping, parse_mapping
from ghlsync.push.ledger import Entry
from ghlsync.push.plan import field_changes, key_function, plan_batch, raw_hash
from ghlsync.push.readers import SourceRow
from ghlsync.push.stage import after_cursor, cursor_key

MAPPING = compile_mapping(
    parse_mapping({"fields": {"email": "email", "city": "city"}, "tags_from": ["tags"]}),
    (),
    ["email", "city", "tags", "id"],
)
KEY = key_function(MAPPING)


def row(number: int, **values: str) -> SourceRow:
    return SourceRow(number, dict(values))


def sent_entry(values: dict[str, str], **extra: object) -> Entry:
    mapped = MAPPING.map(values)
    return Entry(
        key=str(KEY(values)),
        contact_id="c1",
        raw_hash=raw_hash(values, MAPPING.fingerprint),
        sent=dict(mapped.fields),  # type: ignore[union-attr]
        tags_wanted=mapped.tags,  # type: ignore[union-attr]
        tags_owned=mapped.tags,  # type: ignore[union-attr]
        **extra,  # type: ignore[arg-type]
    )


def test_new_unchanged_changed_and_rejected_rows() -> None:
    old = {"email": "a@x.io", "city": "Paris", "tags": "t1"}
    ledger = {"e:a@x.io": sent_entry(old)}
    rows = [
        row(1, **old),
        row(2, email="b@x.io", city="Rome", tags=""),
        row(3, email="", city="Nowhere", tags=""),
        SourceRow(4, {"_raw": "x"}, "not valid JSON"),
    ]
    plan = plan_batch(rows, MAPPING, KEY, ledger)
    assert plan.unchanged == ["e:a@x.io"]
    assert [(a.kind, a.key) for a in plan.actions] == [("create", "e:b@x.io")]
    assert [r.problems[0].reason for r in plan.rejects] == ["missing_email_and_phone",
                                                            "malformed_row"]  # fmt: skip
    changed = plan_batch([row(1, email="A@x.io ", city="Lyon", tags="t1, t2")], MAPPING, KEY,
                         ledger)  # fmt: skip
    action = changed.actions[0]
    assert action.kind == "update"
    assert action.fields == {"city": "Lyon"}  # only what changed
    assert action.tags_add == {"t2"} and action.tags_remove == frozenset()


def test_only_owned_tags_are_removed_and_same_values_only_refresh_the_ledger() -> None:
    old = {"email": "a@x.io", "city": "Paris", "tags": "mine, theirs"}
    entry = sent_entry(old)
    entry.tags_owned = frozenset({"mine"})  # "theirs" was on the contact before the sync
    plan = plan_batch([row(1, email="a@x.io", city="Paris", tags="")], MAPPING, KEY,
                      {entry.key: entry})  # fmt: skip
    assert plan.actions[0].kind == "tags"
    assert plan.actions[0].tags_remove == {"mine"}
    # the raw row differs (extra spaces) but nothing sent would change: no action
    entry = sent_entry(old)
    plan = plan_batch([row(1, email=" a@x.io", city="Paris ", tags="mine,theirs")], MAPPING, KEY,
                      {entry.key: entry})  # fmt: skip
    assert not plan.actions and len(plan.refreshed) == 1


def test_same_key_twice_in_a_batch_the_later_wins() -> None:
    plan = plan_batch([row(1, email="a@x.io", city="A", tags=""),
                       row(2, email="a@x.io", city="B", tags="")], MAPPING, KEY, {})  # fmt: skip
    assert len(plan.actions) == 1 and plan.actions[0].fields["city"] == "B"
    assert plan.superseded == 1


def test_primary_key_and_field_changes() -> None:
    by_id = key_function(MAPPING, ("id",))
    assert by_id({"id": " 7 "}) == "7" and by_id({"id": ""}) is None
    assert field_changes(
        {"city": "X", "customFields": [{"id": "f1", "field_value": 1},
                                       {"id": "f2", "field_value": 2}]},
        {"city": "X", "customFields": [{"id": "f1", "field_value": 1}]},
    ) == {"customFields": [{"id": "f2", "field_value": 2}]}  # fmt: skip


def test_cursor_order_across_types() -> None:
    assert cursor_key("10") > cursor_key("9")
    assert cursor_key("2026-01-10") > cursor_key("2026-01-02T23:00:00Z")
    keep = after_cursor("u", "2026-01-02")
    assert keep({"u": "2026-01-03"}) and not keep({"u": "2026-01-02"}) and not keep({"u": None})


def test_push_imports_neither_extract_nor_events() -> None:
    root = Path(__file__).resolve().parents[3] / "src" / "ghlsync"
    for folder, banned in (("push", ("ghlsync.extract", "ghlsync.events", "ghlsync.cli")),
                           ("mapping", ("ghlsync.client", "ghlsync.push", "ghlsync.extract",
                                        "ghlsync.events", "ghlsync.emulator", "httpx"))):  # fmt: skip
        for path in (root / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    hit = [b for b in banned if name == b or name.startswith(b + ".")]
                    assert not hit, f"{path.name} imports {name}"
