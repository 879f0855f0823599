"""The collector's ASGI app: Segment's HTTP tracking API, health, metrics, webhooks, debugger.

``POST /v1/{identify,track,page,screen,group,alias,batch}`` with HTTP Basic auth (the source's
write key as user name, as Segment's and RudderStack's SDKs send it). A request is answered 200
only after its messages are durably enqueued. 401 for an unknown write key, 413 for a body over
the limit (or a message over 32 KB), 400 with the reason for anything that is not a valid
message, 503 when the queue cannot take it now (the SDKs retry).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ghlsync.events import _fastpath
from ghlsync.events.config import MAX_MESSAGE_BYTES, EventsConfig, Source
from ghlsync.events.metrics import Metrics
from ghlsync.events.models import ADAPTERS, BATCH
from ghlsync.events.queue import EventQueue, NewEvent
from ghlsync.events.rules import classify

log = logging.getLogger("ghlsync.events.api")
_encode = msgspec.json.Encoder().encode

KINDS = ("identify", "track", "page", "screen", "group", "alias")


class Refused(Exception):
    """An answer other than 200, with the one line that says why."""

    def __init__(self, status: int, error: str, hint: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.hint = hint

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.error}
        if self.hint:
            body["hint"] = self.hint
        headers = {"WWW-Authenticate": 'Basic realm="ghlsync"'} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


def basic_user(request: Request) -> str | None:
    """The user name of an HTTP Basic ``Authorization`` header (a write key), or None."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, decompressed when gzip; ``Refused(413)`` past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            raise Refused(400, "body is not valid gzip") from None
        if len(body) > limit or inflater.unconsumed_tail:
            raise Refused(413, f"decompressed body is over the {limit}-byte limit")
    return body


def _reason(error: ValidationError) -> str:
    first = error.errors()[0]
    place = ".".join(str(p) for p in first["loc"] if p not in KINDS) or "body"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{place}: {first['msg']}{more}"


def _too_big(message: dict[str, Any]) -> bool:
    """Is ``message`` over ``MAX_MESSAGE_BYTES`` as compact ``json.dumps`` text? That text is at
    most 6x msgspec's UTF-8 (``\\u007f`` for a DEL byte), so a small message skips ``json.dumps``."""
    try:
        size = len(_encode(message))
    except (TypeError, OverflowError):
        size = MAX_MESSAGE_BYTES
    if size * 6 <= MAX_MESSAGE_BYTES:
        return False
    return len(json.dumps(message, separators=(",", ":"))) > MAX_MESSAGE_BYTES


def _accepted(count: int) -> Response:
    """Segment's answer, ``{"success": true}``, with the count (as ``JSONResponse`` renders it)."""
    return Response(b'{"success":true,"accepted":%d}' % count, media_type="application/json")


class Collector:
    """Turns validated requests into queued events; the route handlers call it."""

    def __init__(self, config: EventsConfig, queue: EventQueue, metrics: Metrics) -> None:
        self.config = config
        self.queue = queue
        self.metrics = metrics
        self.accepting = True

    def authenticate(self, request: Request, body_key: str | None = None) -> Source:
        key = basic_user(request) or body_key
        if not key:
            raise Refused(401, "no write key", "send the source's write key as the Basic auth user")
        source = self.config.source_for_key(key)
        if source is None:
            raise Refused(401, "unknown write key", "check the source's write key")
        return source

    def to_event(self, source: Source, message: dict[str, Any], now: float) -> NewEvent:
        if _too_big(message):
            raise Refused(413, f"a message is over the {MAX_MESSAGE_BYTES}-byte limit")
        if "messageId" not in message:
            message["messageId"] = f"ghlsync-{uuid.uuid4()}"
        kind = str(message["type"])
        identity = message.get("userId")
        if identity in (None, ""):
            identity = message.get("anonymousId")
        return NewEvent(
            source=source.name,
            location_id=source.location_id,
            message_id=str(message["messageId"]),
            identity=str(identity),
            kind=kind,
            name=str(message.get("event") or message.get("name") or ""),
            body=message,
            received_at=now,
            dropped_reason=classify(kind, message, self.config.mapping),
        )

    async def accept(self, source: Source, messages: list[dict[str, Any]]) -> int:
        now = time.time()
        events = [self.to_event(source, m, now) for m in messages]
        if not self.accepting:
            raise Refused(503, "the collector is shutting down", "retry shortly")
        try:
            new = await self.queue.enqueue(events)
        except Exception:
            log.exception("enqueue failed")
            raise Refused(503, "the queue cannot store events now", "retry shortly") from None
        kinds: dict[str, int] = {}
        reasons: dict[str, int] = {}
        for event in events:
            kinds[event.kind] = kinds.get(event.kind, 0) + 1
            if event.dropped_reason:
                reasons[event.dropped_reason] = reasons.get(event.dropped_reason, 0) + 1
        for kind, count in kinds.items():
            self.metrics.accepted.labels(source.location_id, source.name, kind).inc(count)
        for reason, count in reasons.items():
            self.metrics.dropped.labels(source.location_id, reason).inc(count)
        if new < len(events):
            self.metrics.duplicates.labels(source.location_id).inc(len(events) - new)
        return len(events)

    async def single(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        started = time.perf_counter()
        try:
            source = self.authenticate(request)
            body = await read_body(request, self.config.max_body_bytes)
            dumped = _fastpath.single(kind, body)
            if dumped is None:  # not plainly valid: pydantic says why (or accepts it)
                try:
                    message = ADAPTERS[kind].validate_json(body)
                except ValidationError as exc:
                    raise Refused(400, _reason(exc)) from None
                dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True)
                dumped["type"] = kind
            count = await self.accept(source, [dumped])
        except Refused as refused:
            return refused.response()
        self.metrics.ack.observe(time.perf_counter() - started)
        return _accepted(count)

    async def batch(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            body = await read_body(request, self.config.max_body_bytes)
            fast = _fastpath.batch(body)
            key = None
            if basic_user(request) is None:
                if fast is not None:
                    key = fast.write_key
                else:
                    try:
                        raw = json.loads(body)
                        key = raw.get("writeKey") if isinstance(raw, dict) else None
                    except ValueError:
                        key = None
            source = self.authenticate(request, key if isinstance(key, str) else None)
            if fast is not None:
                dumps, context = fast.messages, fast.context
            else:  # not plainly valid: pydantic says why (or accepts it)
                try:
                    batch = BATCH.validate_json(body)
                except ValidationError as exc:
                    raise Refused(400, _reason(exc)) from None
                context = batch.context
                dumps = [
                    m.model_dump(mode="json", by_alias=True, exclude_none=True) for m in batch.batch
                ]
            for dumped in dumps:
                if context:
                    dumped["context"] = {**context, **dumped.get("context", {})}
                dumped.pop("writeKey", None)
            count = await self.accept(source, dumps)
        except Refused as refused:
            return refused.response()
        self.metrics.ack.observe(time.perf_counter() - started)
        return _accepted(count)


Handler = Callable[[Request], Awaitable[Response]]


def collector_routes(collector: Collector) -> list[BaseRoute]:
    """The tracking API's routes: ``/v1/batch`` and one per message type."""
    return [
        Route("/v1/batch", collector.batch, methods=["POST"]),
        Route("/v1/import", collector.batch, methods=["POST"]),
        Route("/v1/{kind:str}", _kinds(collector.single), methods=["POST"]),
    ]


def _kinds(handler: Handler) -> Handler:
    async def route(request: Request) -> Response:
        if request.path_params["kind"] not in KINDS:
            return JSONResponse({"error": "no such endpoint"}, status_code=404)
        return await handler(request)

    return route


def create_app(
    collector: Collector, extra_routes: list[BaseRoute] | None = None, **kwargs: Any
) -> Starlette:
    """The Starlette app of ``ghlsync serve`` (``extra_routes``: health, webhooks, debugger)."""
    return Starlette(routes=[*collector_routes(collector), *(extra_routes or [])], **kwargs)
