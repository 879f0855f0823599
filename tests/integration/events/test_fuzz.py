"""The collector's own OpenAPI document, fuzzed with schemathesis: never a 5xx (bounded, fast)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ghlsync.events.openapi import openapi_document

from .conftest import WRITE_KEY, RunningService

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES_PER_OPERATION = 12
OPERATIONS = ["identify", "track", "page", "screen", "group", "alias", "batch"]


@pytest.mark.parametrize("kind", OPERATIONS)
def test_generated_bodies_never_get_a_5xx(make_service: Any, kind: str) -> None:
    from hypothesis import HealthCheck, given, settings

    running: RunningService = make_service(deliver=False)
    schema = schemathesis.openapi.from_dict(openapi_document())
    operation = schema[f"/v1/{kind}"]["POST"]
    statuses: set[int] = set()

    with httpx.Client(base_url=running.url, auth=(WRITE_KEY, ""), timeout=10) as client:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            body = case.body
            content = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
            answer = client.post(
                f"/v1/{kind}", content=content, headers={"content-type": "application/json"}
            )
            statuses.add(answer.status_code)
            assert answer.status_code < 500, (answer.status_code, answer.text, content[:300])
            if answer.status_code == 400:
                assert answer.json()["error"], "a 400 says why"

        check()
        # and some bodies that are not JSON, or not the schema's shape at all
        for raw in (b"", b"null", b"[]", b'{"batch": 3}', b"\xff\xfe", b'{"userId": {"a": 1}}'):
            answer = client.post(f"/v1/{kind}", content=raw)
            assert answer.status_code == 400, (raw, answer.status_code, answer.text)
    assert statuses <= {200, 400, 413}, statuses
