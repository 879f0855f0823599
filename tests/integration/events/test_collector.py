"""The collector end to end: real SDKs -> ``ghlsync serve`` -> the emulator's contacts."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient

from ghlsync.emulator import EmulatorServer

from .conftest import WRITE_KEY, RunningService, contacts_of, wait_for

pytestmark = pytest.mark.slow


def _identify_body(email: str, **extra: Any) -> dict[str, Any]:
    return {"userId": "u-1", "traits": {"email": email}, **extra}


def test_segment_sdk_identify_and_lead_reach_the_contact(
    emulator: EmulatorServer, make_service: Any
) -> None:
    running: RunningService = make_service()
    errors: list[Any] = []
    client = SegmentClient(
        WRITE_KEY, host=running.url, sync_mode=True, on_error=lambda e, b: errors.append(e)
    )
    client.identify(
        "lead-987",
        {
            "email": " Sam@Example.com ",
            "phone": "+1 415 555 0142",
            "first_name": "Sam",
            "last_name": "Rivera",
        },
        context={"consent": {"categoryPreferences": {"marketing": True}}},
    )
    client.track("lead-987", "Product Viewed", {"sku": "x"})
    client.track(
        "lead-987", "Lead Generated", {"source": "Pricing Page Form", "lead_tag": "website-lead"}
    )
    client.flush()
    assert not errors

    def delivered() -> list[dict[str, Any]]:
        found = contacts_of(emulator, "sam@example.com")
        return found if found and "website-lead" in (found[0].get("tags") or []) else []

    contact = wait_for(delivered, what="the contact with its lead tag")[0]
    assert contact["phone"] == "+14155550142"
    assert contact["firstName"] == "Sam" and contact["lastName"] == "Rivera"
    assert contact["source"] == "Pricing Page Form"
    assert contact["dnd"] is False
    assert set(contact["tags"]) >= {"website-lead", "lead"}


def test_rudder_sdk_gzip_batch_is_accepted(emulator: EmulatorServer, make_service: Any) -> None:
    running: RunningService = make_service()
    errors: list[Any] = []
    client = RudderClient(
        WRITE_KEY, host=running.url, sync_mode=True, on_error=lambda e, b: errors.append(e)
    )
    client.identify("r-1", {"email": "rudder@example.com", "first_name": "Rud"})
    client.track("r-1", "Signed Up", {"method": "google"})
    client.flush()
    assert not errors

    def delivered() -> list[dict[str, Any]]:
        found = contacts_of(emulator, "rudder@example.com")
        return found if found and found[0].get("source") == "google" else []

    contact = wait_for(delivered, what="the contact with its sign-up source")[0]
    assert contact["firstName"] == "Rud"


def test_tags_are_added_not_replaced(emulator: EmulatorServer, make_service: Any) -> None:
    location = emulator.state.locations[0]["id"]
    token = emulator.state.locations[0]["token"]
    made = httpx.post(
        f"{emulator.base_url}/contacts/",
        headers={"Authorization": f"Bearer {token}", "Version": "2021-07-28"},
        json={"locationId": location, "email": "tagged@example.com", "tags": ["existing"]},
    )
    assert made.status_code == 201, made.text
    running: RunningService = make_service()
    answer = httpx.post(
        f"{running.url}/v1/track",
        auth=(WRITE_KEY, ""),
        json={
            "userId": "t-1",
            "event": "Lead Generated",
            "context": {"traits": {"email": "tagged@example.com"}},
            "properties": {"source": "Form"},
        },
    )
    assert answer.status_code == 200, answer.text

    def tagged() -> list[str]:
        found = contacts_of(emulator, "tagged@example.com")
        tags = list(found[0].get("tags") or []) if found else []
        return tags if "lead" in tags else []

    assert set(wait_for(tagged, what="the lead tag")) == {"existing", "lead"}


def test_wrong_write_key_is_401(make_service: Any) -> None:
    running: RunningService = make_service()
    for auth in (("wrong-key", ""), None):
        answer = httpx.post(f"{running.url}/v1/identify", auth=auth, json=_identify_body("a@b.co"))
        assert answer.status_code == 401
        assert "write key" in answer.json()["error"]


def test_malformed_and_oversized_bodies(make_service: Any) -> None:
    running: RunningService = make_service()
    url = running.url
    bad_json = httpx.post(f"{url}/v1/identify", auth=(WRITE_KEY, ""), content=b"{not json")
    assert bad_json.status_code == 400 and bad_json.json()["error"]
    no_identity = httpx.post(f"{url}/v1/identify", auth=(WRITE_KEY, ""), json={"traits": {}})
    assert no_identity.status_code == 400
    assert "userId or anonymousId" in no_identity.json()["error"]
    no_event = httpx.post(f"{url}/v1/track", auth=(WRITE_KEY, ""), json={"userId": "x"})
    assert no_event.status_code == 400 and "event" in no_event.json()["error"]
    huge = {"userId": "x", "traits": {"blob": "x" * 600_000}}
    assert httpx.post(f"{url}/v1/identify", auth=(WRITE_KEY, ""), json=huge).status_code == 413
    big_message = {"userId": "x", "traits": {"blob": "x" * 40_000}}
    assert (
        httpx.post(f"{url}/v1/identify", auth=(WRITE_KEY, ""), json=big_message).status_code == 413
    )
    bomb = gzip.compress(json.dumps({"batch": [huge]}).encode())
    answer = httpx.post(
        f"{url}/v1/batch",
        auth=(WRITE_KEY, ""),
        content=bomb,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert httpx.post(f"{url}/v1/nothing", auth=(WRITE_KEY, ""), json={}).status_code == 404


def test_duplicate_message_ids_are_stored_once(make_service: Any) -> None:
    running: RunningService = make_service(deliver=False)
    body = {"userId": "d-1", "event": "Product Viewed", "messageId": "m-1"}
    for _ in range(3):
        answer = httpx.post(f"{running.url}/v1/track", auth=(WRITE_KEY, ""), json=body)
        assert answer.status_code == 200
    metrics = httpx.get(f"{running.url}/metrics").text
    assert "ghlsync_events_duplicate_total{location=" in metrics
    line = next(x for x in metrics.splitlines() if x.startswith("ghlsync_events_duplicate_total"))
    assert line.endswith(" 2.0")
