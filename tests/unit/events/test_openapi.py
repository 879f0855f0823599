"""The collector's OpenAPI document kept in the repository is the one the code builds."""

from __future__ import annotations

from pathlib import Path

from ghlsync.events.openapi import render

KEPT = Path(__file__).resolve().parents[3] / "docs" / "events-openapi.json"


def test_kept_openapi_document_is_current() -> None:
    assert KEPT.read_text() == render(), (
        "docs/events-openapi.json is stale: python -m ghlsync.events.openapi > docs/events-openapi.json"
    )
