"""The pure parts of webhooks out: envelope, signatures, retry policy."""

from __future__ import annotations

import base64
import json
import random

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding

from ghlsync.emulator.webhooks import (
    ED25519_HEADER,
    RSA_HEADER,
    WebhookKeys,
    delivery_body,
    retry_delay,
    should_retry,
    signature_headers,
    verify_ed25519,
    verify_rsa,
)

KEYS = WebhookKeys.generate(seed=1)


def test_envelope_carries_type_location_timestamp_and_webhook_id() -> None:
    body = delivery_body(
        {"type": "OpportunityCreate", "locationId": "L1", "id": "o1"},
        webhook_id="w1",
        timestamp="2026-01-01T00:00:00.000Z",
    )
    document = json.loads(body)
    assert document == {
        "type": "OpportunityCreate",
        "locationId": "L1",
        "id": "o1",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "webhookId": "w1",
    }


def test_both_signatures_verify_with_the_public_keys_only() -> None:
    body = b'{"type":"ContactCreate","locationId":"L1"}'
    headers = signature_headers(KEYS, body)
    pems = KEYS.public_pems()
    assert verify_rsa(pems["rsa"], body, headers[RSA_HEADER])
    assert verify_ed25519(pems["ed25519"], body, headers[ED25519_HEADER])
    assert len(base64.b64decode(headers[ED25519_HEADER])) == 64
    # independently, with cryptography alone
    rsa_key = serialization.load_pem_public_key(pems["rsa"].encode())
    rsa_key.verify(  # type: ignore[union-attr,call-arg]
        base64.b64decode(headers[RSA_HEADER]), body, padding.PKCS1v15(), hashes.SHA256()
    )
    ed_key = serialization.load_pem_public_key(pems["ed25519"].encode())
    assert isinstance(ed_key, ed25519.Ed25519PublicKey)
    ed_key.verify(base64.b64decode(headers[ED25519_HEADER]), body)


def test_a_changed_byte_or_another_key_fails() -> None:
    body = b'{"a":1}'
    headers = signature_headers(KEYS, body)
    pems = KEYS.public_pems()
    assert not verify_rsa(pems["rsa"], b'{"a":2}', headers[RSA_HEADER])
    assert not verify_ed25519(pems["ed25519"], b'{"a": 1}', headers[ED25519_HEADER])
    other = WebhookKeys.generate(seed=2).public_pems()
    assert not verify_rsa(other["rsa"], body, headers[RSA_HEADER])
    assert not verify_ed25519(other["ed25519"], body, headers[ED25519_HEADER])
    assert not verify_ed25519(pems["ed25519"], body, "not base64!")


def test_ed25519_key_derives_from_the_seed() -> None:
    again = WebhookKeys.generate(seed=1)
    assert again.public_pems()["ed25519"] == KEYS.public_pems()["ed25519"]


def test_envelope_carries_app_id_and_version_id() -> None:
    """GHL-NOTES §8: real deliveries carry ``appId`` and ``versionId`` (hl-docs#264)."""
    body = delivery_body(
        {"type": "ContactCreate", "locationId": "L1", "id": "c1"},
        webhook_id="w1",
        timestamp="2026-01-01T00:00:00.000Z",
        app_id="app1",
        version_id="ver1",
    )
    document = json.loads(body)
    assert document["appId"] == "app1" and document["versionId"] == "ver1"


def test_retry_policy_is_highlevels_429_only() -> None:
    """GHL-NOTES §8: only a 429 is retried; a 5xx, a timeout or a connection error is final."""
    assert should_retry(429)
    for final in (None, 500, 502, 503, 504, 200, 400, 410):
        assert not should_retry(final), final


def test_retry_delay_is_ten_minutes_plus_jitter_times_the_scale() -> None:
    """GHL-NOTES §8: about 10 minutes apart plus jitter; ``time_scale`` shrinks it for tests."""
    rng = random.Random(1)
    delays = [retry_delay(600.0, 60.0, 1.0, rng) for _ in range(50)]
    assert all(600.0 <= d <= 660.0 for d in delays)
    assert len(set(delays)) > 1  # jittered
    scaled = [retry_delay(600.0, 60.0, 0.001, rng) for _ in range(50)]
    assert all(0.6 <= d <= 0.66 for d in scaled)


async def test_no_url_no_deliveries_and_config_round_trip() -> None:
    from tests.unit.emulator.conftest import make_emu

    emu = await make_emu()
    async with emu.client:
        await emu.create(email="quiet@example.com")
        log = (await emu.client.get("/_emulator/webhooks/deliveries")).json()
        assert log == {"deliveries": [], "pending": 0}
        config = await emu.client.put(
            "/_emulator/webhooks", json={"maxAttempts": 2, "timeScale": 0.01}
        )
        assert config.json()["maxAttempts"] == 2 and config.json()["url"] is None
        assert config.json()["timeScale"] == 0.01
        assert config.json()["retryIntervalMs"] == 600_000
        assert config.json()["appId"] == emu.state.app_id
        refused = await emu.client.put("/_emulator/webhooks", json={"timeScale": "fast"})
        assert refused.status_code == 422
        keys = (await emu.client.get("/_emulator/webhooks/keys")).json()
        assert keys["rsa"].startswith("-----BEGIN PUBLIC KEY-----")
        assert keys["ed25519"].startswith("-----BEGIN PUBLIC KEY-----")
