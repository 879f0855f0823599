"""The pure parts of webhooks out: envelope, signatures, retry policy."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding

from ghlsync.emulator.webhooks import (
    ED25519_HEADER,
    RSA_HEADER,
    WebhookKeys,
    backoff_delay,
    delivery_body,
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


def test_retry_policy() -> None:
    assert should_retry(None) and should_retry(500) and should_retry(503) and should_retry(429)
    assert not should_retry(200) and not should_retry(400) and not should_retry(410)
    assert [backoff_delay(n, 0.5, 3.0) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_no_url_no_deliveries_and_config_round_trip() -> None:
    from tests.unit.emulator.conftest import make_emu

    emu = await make_emu()
    async with emu.client:
        await emu.create(email="quiet@example.com")
        log = (await emu.client.get("/_emulator/webhooks/deliveries")).json()
        assert log == {"deliveries": [], "pending": 0}
        config = await emu.client.put(
            "/_emulator/webhooks", json={"maxAttempts": 2, "baseDelayMs": 10}
        )
        assert config.json()["maxAttempts"] == 2 and config.json()["url"] is None
        keys = (await emu.client.get("/_emulator/webhooks/keys")).json()
        assert keys["rsa"].startswith("-----BEGIN PUBLIC KEY-----")
        assert keys["ed25519"].startswith("-----BEGIN PUBLIC KEY-----")
