"""The collector's OpenAPI document, built from its pydantic models.

Served at ``GET /openapi.json`` and kept in the repository as ``docs/events-openapi.json``
(``python -m ghlsync.events.openapi > docs/events-openapi.json``); a test checks the kept copy is
current.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ghlsync import __version__
from ghlsync.events.models import (
    Accepted,
    Alias,
    Batch,
    Group,
    Identify,
    Page,
    Problem,
    Screen,
    Track,
)

_SINGLE: dict[str, type[BaseModel]] = {
    "identify": Identify,
    "track": Track,
    "page": Page,
    "screen": Screen,
    "group": Group,
    "alias": Alias,
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the tracking API (``/v1/*``), the webhook receiver and health."""
    models: list[type[BaseModel]] = [*_SINGLE.values(), Batch, Accepted, Problem]
    _, defs = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas = defs.get("$defs", {})

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    def answers(ok: str) -> dict[str, Any]:
        problem = {"content": {"application/json": {"schema": ref("Problem")}}}
        return {
            "200": {
                "description": ok,
                "content": {"application/json": {"schema": ref("Accepted")}},
            },
            "400": {"description": "not a valid message: the reason", **problem},
            "401": {"description": "no or unknown write key", **problem},
            "413": {"description": "body or a message over the size limit", **problem},
            "503": {"description": "cannot store now; retry", **problem},
        }

    paths: dict[str, Any] = {}
    routes: dict[str, type[BaseModel]] = {**_SINGLE, "batch": Batch}
    for kind, model in routes.items():
        paths[f"/v1/{kind}"] = {
            "post": {
                "operationId": kind,
                "summary": f"Segment-compatible {kind} call",
                "security": [{"writeKey": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref(model.__name__)}},
                },
                "responses": answers("durably enqueued"),
            }
        }
    plain = {"200": {"description": "ok"}, "503": {"description": "not ready"}}
    paths["/healthz"] = {
        "get": {"operationId": "healthz", "responses": {"200": {"description": "alive"}}}
    }
    paths["/readyz"] = {"get": {"operationId": "readyz", "responses": plain}}
    paths["/metrics"] = {
        "get": {"operationId": "metrics", "responses": {"200": {"description": "Prometheus text"}}}
    }
    paths["/webhooks/ghl"] = {
        "post": {
            "operationId": "webhook",
            "summary": "HighLevel webhook delivery (signed)",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": {"description": "stored (or a repeat of a stored webhookId)"},
                "401": {"description": "missing or bad signature"},
                "400": {"description": "not JSON, stale, or for another app"},
                "429": {"description": "cannot store now: HighLevel retries later"},
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "ghlsync event collector", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "writeKey": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "the source's write key as the user name, empty password",
                }
            },
        },
    }


def render() -> str:
    """The document as the repository keeps it."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
