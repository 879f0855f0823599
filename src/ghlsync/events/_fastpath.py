"""The collector's hot path: Segment messages decoded with msgspec and checked by hand.

Validating a batch of 20 SDK messages with the pydantic models and dumping them back costs about
6 us per message, decoding with msgspec under 1 us. The pydantic models (``models.py``) stay the
definition of what is valid (they give the 400 reasons and the OpenAPI document): these functions
accept only messages that are plainly valid and return exactly what
``model.model_dump(mode="json", by_alias=True, exclude_none=True)`` would, keys in the same order;
for anything else (an error, a snake_case field name, a float id, JSON msgspec refuses) they
return None and the caller runs the pydantic path, so answers and stored bodies do not change.
``tests/unit/events/test_fastpath.py`` checks the two agree on generated messages.
"""

from __future__ import annotations

from typing import Any

import msgspec

KINDS = ("identify", "track", "page", "screen", "group", "alias")

#: fields every message has, in the models' declaration order (wire spelling)
_COMMON = ("userId", "anonymousId", "messageId", "timestamp", "sentAt", "context", "integrations")
#: the type's own fields after ``type``, in declaration order
_OWN: dict[str, tuple[str, ...]] = {
    "identify": ("traits",),
    "track": ("event", "properties"),
    "page": ("name", "properties"),
    "screen": ("name", "properties"),
    "group": ("groupId", "traits"),
    "alias": ("previousId",),
}
#: fields defaulting to ``{}`` (dumped even when absent)
_DICTS = frozenset({"context", "integrations", "traits", "properties"})
_IDS = frozenset({"userId", "anonymousId", "groupId", "previousId"})
_OPTIONAL_STR = frozenset({"timestamp", "sentAt", "name"})
#: python names that ``populate_by_name`` would also accept: left to pydantic
_SNAKE = frozenset({"user_id", "anonymous_id", "message_id", "sent_at", "group_id", "previous_id"})
_KNOWN = {kind: frozenset((*_COMMON, "type", *own)) for kind, own in _OWN.items()}

_decode = msgspec.json.decode
#: pydantic's JSON parser refuses nesting past about 200 levels (a 400): deeper bodies go to it
_MAX_DEPTH = 190


def _shallow(body: bytes, data: Any) -> bool:
    """True if no container in ``data`` is nested deeper than ``_MAX_DEPTH``."""
    if body.count(b"{") + body.count(b"[") <= _MAX_DEPTH:
        return True  # fewer containers than that in all: no need to walk
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return False
        children = value.values() if type(value) is dict else value
        stack.extend((c, depth + 1) for c in children if type(c) in (dict, list))
    return True


def _load(body: bytes) -> Any:
    try:
        data = _decode(body)
    except (msgspec.DecodeError, ValueError, OverflowError, RecursionError):
        return None
    return data if type(data) is dict and _shallow(body, data) else None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) or (type(value) is int)


def message(kind: str, data: Any) -> dict[str, Any] | None:
    """``data`` (decoded JSON) dumped as the ``kind`` model would dump it, or None: ask pydantic."""
    if type(data) is not dict or not _SNAKE.isdisjoint(data):
        return None
    if data.get("type", kind) != kind:
        return None
    for name in ("userId", "anonymousId"):
        value = data.get(name)
        if value is not None and not _is_id(value):
            return None
    if data.get("userId") in (None, "") and data.get("anonymousId") in (None, ""):
        return None
    message_id = data.get("messageId")
    if message_id is not None and (type(message_id) is not str or len(message_id) > 200):
        return None
    for name in _OWN[kind]:
        value = data.get(name)
        if name in _DICTS:
            if name in data and type(value) is not dict:
                return None
        elif name == "event":
            if type(value) is not str or not 1 <= len(value) <= 200:
                return None
        elif name in _IDS:
            if not _is_id(value):
                return None
        elif value is not None and type(value) is not str:
            return None
    for name in ("timestamp", "sentAt"):
        value = data.get(name)
        if value is not None and type(value) is not str:
            return None
    for name in ("context", "integrations"):
        if name in data and type(data[name]) is not dict:
            return None
    out: dict[str, Any] = {}
    for name in _COMMON:
        value = data.get(name)
        if value is not None:
            out[name] = value
        elif name in _DICTS:
            out[name] = {}
    out["type"] = kind
    for name in _OWN[kind]:
        value = data.get(name)
        if value is not None:
            out[name] = value
        elif name in _DICTS:
            out[name] = {}
    known = _KNOWN[kind]
    for name, value in data.items():
        if name not in known and value is not None:
            out[name] = value
    return out


def single(kind: str, body: bytes) -> dict[str, Any] | None:
    """A ``/v1/{kind}`` body as the pydantic path dumps it (with ``type``), or None."""
    data = _load(body)
    return None if data is None else message(kind, data)


class Batch:
    """A decoded ``/v1/batch`` body: its messages dumped, its context and write key."""

    __slots__ = ("context", "messages", "write_key")

    def __init__(
        self, messages: list[dict[str, Any]], context: dict[str, Any], write_key: Any
    ) -> None:
        self.messages = messages
        self.context = context
        self.write_key = write_key


def batch(body: bytes) -> Batch | None:
    """A ``/v1/batch`` body as the pydantic path reads it, or None."""
    data = _load(body)
    if data is None or "sent_at" in data:
        return None
    items = data.get("batch")
    if type(items) is not list or not 1 <= len(items) <= 2500:
        return None
    context = data.get("context", {})
    if type(context) is not dict or type(data.get("integrations", {})) is not dict:
        return None
    sent_at = data.get("sentAt")
    if sent_at is not None and type(sent_at) is not str:
        return None
    messages = []
    for item in items:
        kind = item.get("type") if type(item) is dict else None
        if type(kind) is not str or kind not in _OWN:
            return None
        dumped = message(kind, item)
        if dumped is None:
            return None
        messages.append(dumped)
    return Batch(messages, context, data.get("writeKey"))
