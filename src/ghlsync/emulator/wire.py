"""Reading request bodies and answering what nobody expected, the one way for every route.

HighLevel is a NestJS service: a body it cannot read is a 4xx with NestJS's error shape
(``{"statusCode": 400, "message": ..., "error": "Bad Request"}``), never a 5xx. Here:

- ``read_body``: at most ``EmulatorSettings.max_body_bytes`` (``Content-Length`` checked before a
  byte is read, the stream counted as it arrives): 413 past it;
- ``parse_json``: strict JSON (no ``NaN``/``Infinity``, no number out of float range, at most
  ``MAX_DEPTH`` levels of nesting): 400 otherwise;
- ``require_json_type``: a body sent as ``text/plain`` (or with no ``Content-Type``) is not
  JSON to HighLevel: 415;
- ``redact``: what the request log keeps of a body: secrets (``client_secret``, tokens, codes,
  ``Authorization``) replaced by ``[redacted]``;
- ``GuardedApp``: the app's last line: anything that escapes a route becomes a JSON 500 on the
  same keep-alive connection, with the traceback in the ``ghlsync.emulator`` log.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request

from ghlsync.emulator.api_error import ApiError

logger = logging.getLogger("ghlsync.emulator")

#: NestJS bodies HighLevel accepts are a few levels deep; JSON nested deeper is refused
MAX_DEPTH = 64
#: the default body limit (``EmulatorSettings.max_body_bytes``); HighLevel's is unpublished
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

REDACTED = "[redacted]"
#: body and query keys whose values never reach the request log (compared lower-case, without
#: ``_`` and ``-``, so ``client_secret``, ``clientSecret`` and ``Client-Secret`` all match)
SECRET_KEYS = frozenset(
    {
        "clientsecret",
        "secret",
        "accesstoken",
        "refreshtoken",
        "token",
        "tokens",
        "idtoken",
        "code",
        "password",
        "authorization",
        "apikey",
        "privatekey",
    }
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _max_body_bytes(request: Request) -> int:
    if request.url.path.startswith("/_emulator/"):
        # the setting is HighLevel's limit; the admin API that changes it keeps its own
        return DEFAULT_MAX_BODY_BYTES
    settings = getattr(request.app.state, "settings", None)
    limit = getattr(settings, "max_body_bytes", None)
    return DEFAULT_MAX_BODY_BYTES if limit is None else int(limit)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"request entity too large: the limit is {limit} bytes",
        error="Payload Too Large",
    )


async def read_body(request: Request) -> bytes:
    """The raw body, or 413 past the size limit (without reading what is past it)."""
    cached: bytes | None = getattr(request, "_body", None)
    if cached is not None:
        return cached
    limit = _max_body_bytes(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, "request aborted", error="Bad Request") from None
    body = b"".join(chunks)
    request._body = body  # later request.body() calls see the same bytes
    return body


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def depth_of(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), counted without recursion and
    stopping once past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(raw: bytes | str) -> Any:
    """Strict JSON as HighLevel's parser reads it; 400 for anything it would refuse.

    >>> parse_json(b'{"a": [1, 2]}')
    {'a': [1, 2]}
    """
    raw_bytes = raw.encode() if isinstance(raw, str) else raw
    shallow = raw_bytes.count(b"[") + raw_bytes.count(b"{") <= MAX_DEPTH
    try:
        data = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors too
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ApiError(
            400, f"Unexpected token in JSON body: {reason}", error="Bad Request"
        ) from None
    # fewer brackets than the limit cannot nest past it (brackets in strings only overcount)
    if not shallow and depth_of(data) > MAX_DEPTH:
        raise _too_deep()
    return data


def _too_deep() -> ApiError:
    return ApiError(400, f"JSON body is nested deeper than {MAX_DEPTH} levels", error="Bad Request")


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def require_json_type(request: Request) -> None:
    """415 unless the request says its body is JSON (``application/json`` or ``*/*+json``)."""
    content_type = request.headers.get("content-type", "")
    if not is_json_type(content_type):
        shown = content_type.split(";", 1)[0].strip() or "no Content-Type"
        raise ApiError(
            415,
            f"Unsupported Media Type: {shown}; send the body as application/json",
            error="Unsupported Media Type",
        )


async def read_json(request: Request) -> Any:
    """The parsed JSON body (None when empty): 413, 415 and 400 as above."""
    raw = await read_body(request)
    if not raw.strip():
        return None
    require_json_type(request)
    return parse_json(raw)


# --------------------------------------------------------------------------- typed fields
# class-validator's messages (HighLevel validates bodies with it): 422 naming the field
ABSENT: Any = object()


def number_field(
    body: dict[str, Any],
    name: str,
    *,
    minimum: float,
    maximum: float,
    integer: bool = False,
    default: Any = None,
) -> Any:
    """``body[name]`` as a finite number within ``[minimum, maximum]`` (default when absent or
    null); 422 otherwise."""
    value = body.get(name, ABSENT)
    if value is ABSENT or value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = (
            "an integer number" if integer else "a number conforming to the specified constraints"
        )
        raise ApiError(422, [f"{name} must be {kind}"])
    if integer and not isinstance(value, int):
        raise ApiError(422, [f"{name} must be an integer number"])
    if not math.isfinite(value) or value < minimum:
        raise ApiError(422, [f"{name} must not be less than {minimum:g}"])
    if value > maximum:
        raise ApiError(422, [f"{name} must not be greater than {maximum:g}"])
    return value


def bool_field(body: dict[str, Any], name: str, default: Any = None) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError(422, [f"{name} must be a boolean value"])
    return value


def string_field(body: dict[str, Any], name: str, default: Any = None) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(422, [f"{name} must be a string"])
    return value


def strings_field(body: dict[str, Any], name: str, default: Any = None) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, list):
        raise ApiError(422, [f"{name} must be an array"])
    if not all(isinstance(item, str) for item in value):
        raise ApiError(422, [f"each value in {name} must be a string"])
    return value


# --------------------------------------------------------------------------- the request log
def _is_secret(key: str) -> bool:
    return key.lower().replace("_", "").replace("-", "") in SECRET_KEYS


def redact(value: Any) -> Any:
    """A copy of a parsed body with every secret-named value replaced by ``[redacted]``."""
    if isinstance(value, dict):
        return {
            key: REDACTED if _is_secret(str(key)) else redact(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def redact_form(text: str) -> str:
    """A form-encoded string (``a=1&client_secret=x``) with secret values redacted."""
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(_is_secret(key) for key, _ in pairs):
        return text  # unchanged, byte for byte
    return urlencode([(key, REDACTED if _is_secret(key) else value) for key, value in pairs])


def logged_body(raw: bytes, *, complete: bool) -> Any:
    """What the request log keeps of a body: the redacted JSON, else the redacted form text.

    A body the log holds only part of (``complete`` False), or that does not parse, is kept as
    text with its secrets redacted as a form would be; never as something that cannot be
    rendered back as JSON.
    """
    if not raw:
        return None
    if complete:
        try:
            return redact(parse_json(raw))
        except ApiError:
            pass
    text = raw.decode("utf-8", "replace")
    return redact_form(text) if "=" in text else text


# --------------------------------------------------------------------------- the last line
def server_error_body(trace_id: str) -> bytes:
    return json.dumps(
        {
            "statusCode": 500,
            "message": "Internal server error",
            "error": "Internal Server Error",
            "traceId": trace_id,
        }
    ).encode()


class GuardedApp(Starlette):
    """Starlette whose every unexpected exception ends as a JSON 500, connection kept.

    Starlette's own error middleware answers 500 and then re-raises, and uvicorn closes the
    connection of an app that raised: a client's keep-alive pool loses it. Here nothing but an
    intended connection drop (``app.ConnectionDropped``) leaves the app.
    """

    #: exceptions that must reach the server (an injected ``reset`` fault)
    passthrough: tuple[type[BaseException], ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await super().__call__(scope, receive, tracked)
        except self.passthrough:
            raise
        except Exception:
            logger.exception("emulator: unexpected error on %s %s", scope["method"], scope["path"])
            if started:
                return  # the 500 went out already (Starlette's error middleware sent it)
            import uuid

            body = server_error_body(str(uuid.uuid4()))
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
