"""The collector's msgspec fast path agrees with the pydantic models it stands in for.

For every body, ``_fastpath`` either declines (None: the collector asks pydantic) or returns
exactly pydantic's ``model_dump(mode="json", by_alias=True, exclude_none=True)``, keys in the
same order; it never accepts a body pydantic refuses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ghlsync.events import _fastpath
from ghlsync.events.models import ADAPTERS, BATCH

KINDS = list(ADAPTERS)
FIELDS = [
    "userId", "anonymousId", "messageId", "timestamp", "sentAt", "context", "integrations",
    "type", "traits", "event", "properties", "name", "groupId", "previousId", "user_id",
    "extra", "writeKey",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.text(min_size=199, max_size=202, alphabet="ab"),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
good_ids = st.one_of(st.text(min_size=1, max_size=4), st.integers(-(2**70), 2**70))
ids = st.one_of(good_ids, good_ids, st.text(max_size=0), st.none(), values)
good_dicts = st.dictionaries(st.text(max_size=3), values, max_size=3)
dicts = st.one_of(good_dicts, good_dicts, good_dicts, values)
strings = st.one_of(st.text(min_size=1, max_size=4), st.text(min_size=1), st.none(), values)
#: mostly plausible messages (so the fast path accepts many), every field sometimes wrong
plausible = st.fixed_dictionaries(
    {"userId": ids},
    optional={
        "anonymousId": ids,
        "messageId": st.one_of(st.text(max_size=3), st.text(min_size=199, max_size=202)),
        "timestamp": strings,
        "sentAt": strings,
        "context": dicts,
        "integrations": dicts,
        "traits": dicts,
        "properties": dicts,
        "event": st.one_of(st.text(min_size=1, max_size=4), strings),
        "name": strings,
        "groupId": st.one_of(good_ids, ids),
        "previousId": st.one_of(good_ids, ids),
        "extra": values,
    },
)
messages = st.one_of(
    plausible,
    plausible,
    plausible,
    st.dictionaries(
        st.sampled_from(FIELDS),
        st.one_of(values, st.sampled_from([*KINDS, "u1", "", "Signed Up"])),
    ),
)


def _ordered(data: dict[str, Any]) -> list[tuple[str, Any]]:
    return list(data.items())


def _pydantic_single(kind: str, body: bytes) -> dict[str, Any] | None:
    try:
        dumped = (
            ADAPTERS[kind]
            .validate_json(body)
            .model_dump(mode="json", by_alias=True, exclude_none=True)
        )
    except ValidationError:
        return None
    dumped["type"] = kind
    return dumped


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(KINDS), data=messages)
def test_single_messages_agree_with_pydantic(kind: str, data: dict[str, Any]) -> None:
    body = json.dumps(data).encode()
    fast = _fastpath.single(kind, body)
    if fast is None:
        return  # declined: the collector runs pydantic itself
    expected = _pydantic_single(kind, body)
    assert expected is not None, f"fast path accepted what pydantic refuses: {data!r}"
    assert _ordered(fast) == _ordered(expected)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(messages, max_size=4),
    kinds=st.lists(st.sampled_from(KINDS), min_size=4, max_size=4),
    top=st.dictionaries(st.sampled_from(["context", "integrations", "sentAt", "writeKey"]), values),
)
def test_batches_agree_with_pydantic(
    items: list[dict[str, Any]], kinds: list[str], top: dict[str, Any]
) -> None:
    for item, kind in zip(items, kinds, strict=False):
        item.setdefault("type", kind)
    body = json.dumps({"batch": items, **top}).encode()
    fast = _fastpath.batch(body)
    if fast is None:
        return
    try:
        batch = BATCH.validate_json(body)
    except ValidationError:
        pytest.fail(f"fast path accepted a batch pydantic refuses: {body!r}")
    expected = [m.model_dump(mode="json", by_alias=True, exclude_none=True) for m in batch.batch]
    assert [_ordered(m) for m in fast.messages] == [_ordered(m) for m in expected]
    assert fast.context == batch.context


SDK_IDENTIFY = {
    "traits": {"email": "ann@example.com", "firstName": "Ann", "nested": {"x": None}},
    "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
    "timestamp": "2026-12-03T08:00:00+00:00",
    "integrations": {},
    "type": "identify",
    "userId": "u-1",
    "anonymousId": None,
    "messageId": "m-1",
    "custom": None,
    "kept": [1, None],
}


def test_what_the_sdks_send_takes_the_fast_path_and_dumps_like_pydantic() -> None:
    body = json.dumps({"batch": [SDK_IDENTIFY] * 3, "sentAt": "2026-12-03T08:00:01Z"}).encode()
    fast = _fastpath.batch(body)
    assert fast is not None
    expected = [
        m.model_dump(mode="json", by_alias=True, exclude_none=True)
        for m in BATCH.validate_json(body).batch
    ]
    assert [_ordered(m) for m in fast.messages] == [_ordered(m) for m in expected]
    assert "custom" not in fast.messages[0] and fast.messages[0]["kept"] == [1, None]


@pytest.mark.parametrize(
    "body",
    [
        b'{"traits": {}}',  # no identity: pydantic's 400 reason
        b'{"userId": 1.5}',  # a float id: pydantic decides
        b'{"userId": true}',
        b'{"user_id": "u"}',  # snake_case alias: populate_by_name, left to pydantic
        b'{"userId": "u", "traits": null}',
        b'{"userId": "u", "type": "track"}',
        b'{"userId": "u", "x": NaN}',
        b'{"userId": "u", "n": 1e999}',
        b'{"userId": "u", "t": ' + b"[" * 195 + b"]" * 195 + b"}",  # pydantic's depth limit
        b"[1]",
        b"not json",
    ],
)
def test_anything_not_plainly_valid_is_left_to_pydantic(body: bytes) -> None:
    assert _fastpath.single("identify", body) is None


def test_a_batch_item_without_a_type_is_left_to_pydantic() -> None:
    assert _fastpath.batch(b'{"batch": [{"userId": "u"}]}') is None
    assert _fastpath.batch(b'{"batch": []}') is None
    assert (
        _fastpath.batch(b'{"batch": [{"type": "identify", "userId": "u"}], "sent_at": 1}') is None
    )
