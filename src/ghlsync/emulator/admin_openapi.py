"""The admin API (``/_emulator``) as an OpenAPI 3.0 document, served at
``GET /_emulator/openapi.json``: what a client (or a fuzzer) may send, with the bounds
``admin.py`` enforces. Every error answers NestJS's shape, as HighLevel's routes do.
"""

from __future__ import annotations

from typing import Any

from ghlsync.emulator.admin_checks import (
    CLOCK_RANGE_S,
    MAX_ANCHOR_MS,
    MAX_SEED_LOCATIONS,
    MAX_SEED_RECORDS,
    MIN_ANCHOR_MS,
)

_DAY_S = 86_400
_SEED_MAX = 2**63 - 1

_ERROR = {
    "type": "object",
    "required": ["statusCode", "message"],
    "properties": {
        "statusCode": {"type": "integer"},
        "message": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "error": {"type": "string"},
    },
}


def _int(minimum: int, maximum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


_LIMIT = {"name": "limit", "in": "query", "schema": _int(0, 100_000)}
_LOCATION = {"name": "locationId", "in": "path", "required": True, "schema": {"type": "string"}}
_KIND = {"name": "kind", "in": "path", "required": True, "schema": {"type": "string"}}
_ENTITY = {"name": "entityId", "in": "path", "required": True, "schema": {"type": "string"}}

_SEED = {
    "locations": _int(0, MAX_SEED_LOCATIONS),
    "contacts": _int(0, MAX_SEED_RECORDS),
    "opportunities": _int(0, MAX_SEED_RECORDS),
    "seed": _int(0, _SEED_MAX),
    "counts": {"type": "object", "additionalProperties": _int(0, MAX_SEED_RECORDS)},
    "anchor": {
        "oneOf": [
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
            _int(MIN_ANCHOR_MS, MAX_ANCHOR_MS),
        ]
    },
}
_SETTINGS = {
    "rateLimit": {
        "nullable": True,
        "oneOf": [
            {"type": "string", "pattern": r"^\d+/\d+(ms|s|m)?$"},
            _object({"max": _int(1, 10**9), "intervalMs": _int(1, _DAY_S * 1000)}),
        ],
    },
    "dailyLimit": {**_int(1, 10**12), "nullable": True},
    "faults": {"type": "string", "nullable": True},
    "faultSeed": _int(0, _SEED_MAX),
    "retryAfter": {"type": "boolean"},
    "accessTokenTtl": _int(1, 3650 * _DAY_S),
    "searchIndexDelayMs": _int(0, 3_600_000),
    "timeoutFaultSeconds": {"type": "number", "minimum": 0, "maximum": 3600},
    "maxBodyBytes": _int(1, 1 << 30),
    "resetBuckets": {"type": "boolean"},
}


def _operation(
    summary: str,
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    created: bool = False,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": parameters or [],
        "responses": {
            "201" if created else "200": {
                "description": "done",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "default": {
                "description": "a NestJS error body (400, 401, 404, 413, 415, 422)",
                "content": {"application/json": {"schema": _ERROR}},
            },
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def admin_openapi() -> dict[str, Any]:
    """The admin API's OpenAPI document (paths relative to ``/_emulator``)."""
    entity_body = {"type": "object"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "ghlsync emulator admin API", "version": "1"},
        "servers": [{"url": "/_emulator"}],
        "components": {
            "securitySchemes": {
                "admin": {"type": "apiKey", "in": "header", "name": "X-Emulator-Admin"}
            }
        },
        "paths": {
            "/health": {"get": _operation("liveness")},
            "/openapi.json": {"get": _operation("this document")},
            "/state": {"get": _operation("company, locations, tokens, counts")},
            "/requests": {"get": _operation("the request log", parameters=[_LIMIT])},
            "/counts": {"get": _operation("request counts by operation and status")},
            "/events": {"get": _operation("emitted webhook events", parameters=[_LIMIT])},
            "/reset": {"post": _operation("drop everything and re-seed", body=_object(_SEED))},
            "/seed": {
                "post": _operation(
                    "add seeded data",
                    body=_object({**_SEED, "locationId": {"type": "string"}}),
                )
            },
            "/settings": {
                "get": _operation("current settings"),
                "put": _operation("change settings", body=_object(_SETTINGS)),
            },
            "/faults": {
                "get": _operation("current faults"),
                "put": _operation(
                    "replace the faults",
                    body=_object(
                        {
                            "faults": {"type": "string", "nullable": True},
                            "seed": _SETTINGS["faultSeed"],
                        }
                    ),
                ),
            },
            "/tokens/expire": {
                "post": _operation(
                    "expire OAuth access tokens",
                    body=_object(
                        {"tokens": {"type": "array", "items": {"type": "string"}, "nullable": True}}
                    ),
                )
            },
            "/tokens": {
                "post": _operation(
                    "mint a token",
                    body=_object(
                        {
                            "locationId": {"type": "string"},
                            "scopes": {"type": "array", "items": {"type": "string"}},
                            "ttlSeconds": {
                                "type": "number",
                                "minimum": 0,
                                "maximum": 3650 * _DAY_S,
                            },
                            "appId": {"type": "string"},
                        }
                    ),
                )
            },
            "/clock/advance": {
                "post": _operation(
                    "move the emulator's clock",
                    body=_object(
                        {
                            "seconds": {
                                "type": "number",
                                "minimum": -CLOCK_RANGE_S,
                                "maximum": CLOCK_RANGE_S,
                            }
                        },
                        required=["seconds"],
                    ),
                )
            },
            "/oauth/authorize": {
                "get": _operation(
                    "an authorization code without a browser",
                    parameters=[
                        {"name": name, "in": "query", "schema": {"type": "string"}}
                        for name in (
                            "client_id",
                            "redirect_uri",
                            "locationId",
                            "user_type",
                            "scope",
                        )
                    ],
                )
            },
            "/webhooks": {
                "get": _operation("webhook delivery settings"),
                "put": _operation(
                    "change webhook delivery",
                    body=_object(
                        {
                            "url": {"type": "string", "format": "uri", "nullable": True},
                            "maxAttempts": _int(1, 100),
                            "baseDelayMs": {"type": "number", "minimum": 0, "maximum": 86_400_000},
                            "maxDelayMs": {"type": "number", "minimum": 0, "maximum": 86_400_000},
                            "timeoutMs": {"type": "number", "minimum": 1, "maximum": 600_000},
                        }
                    ),
                ),
            },
            "/webhooks/flush": {
                "post": _operation(
                    "wait until no delivery is pending",
                    body=_object(
                        {"timeoutMs": {"type": "number", "minimum": 0, "maximum": 600_000}}
                    ),
                )
            },
            "/webhooks/keys": {"get": _operation("the webhook signing public keys")},
            "/webhooks/deliveries": {
                "get": _operation(
                    "webhook deliveries",
                    parameters=[{"name": "limit", "in": "query", "schema": _int(1, 100_000)}],
                )
            },
            "/locations/{locationId}/settings": {
                "get": _operation("duplicate-contact settings", parameters=[_LOCATION]),
                "put": _operation(
                    "change duplicate-contact settings",
                    parameters=[_LOCATION],
                    body=_object(
                        {
                            "allowDuplicateContact": {"type": "boolean"},
                            "priority": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "string", "enum": ["email", "phone"]},
                            },
                        }
                    ),
                ),
            },
            "/locations/{locationId}/contacts/by-email": {
                "get": _operation(
                    "contacts by email",
                    parameters=[
                        _LOCATION,
                        {"name": "email", "in": "query", "schema": {"type": "string"}},
                    ],
                )
            },
            "/locations/{locationId}/{kind}": {
                "get": _operation("list any entity", parameters=[_LOCATION, _KIND, _LIMIT]),
                "post": _operation(
                    "create any entity",
                    parameters=[_LOCATION, _KIND],
                    body=entity_body,
                    created=True,
                ),
            },
            "/locations/{locationId}/{kind}/{entityId}": {
                method: _operation(
                    f"{method} one entity",
                    parameters=[_LOCATION, _KIND, _ENTITY],
                    body=entity_body if method in ("put", "patch") else None,
                )
                for method in ("get", "put", "patch", "delete")
            },
        },
        "security": [{"admin": []}],
    }
