"""Event mapping, pure: the Default preset of seeds/001, consent -> dnd, bursts coalesced."""

from __future__ import annotations

from typing import Any

import pytest

from ghlsync.errors import ConfigError
from ghlsync.events.config import Consent, EventMapping, EventsConfig, hash_key, parse_config
from ghlsync.events.rules import classify, plan_contact
from ghlsync.mapping import compile_mapping

PRESET = EventMapping()
CONTACT = compile_mapping(PRESET.contact)


def _identify(traits: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": "u", "messageId": "m1", "traits": traits, **extra}


def _track(event: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": "u",
        "messageId": "m2",
        "event": event,
        "properties": properties,
        **extra,
    }


def test_seed_example_lead_generated_payload() -> None:
    events = [
        _identify(
            {
                "email": "sam@example.com",
                "phone": "+1 415 555 0142",
                "first_name": "Sam",
                "last_name": "Rivera",
            },
            context={"consent": {"categoryPreferences": {"marketing": True}}},
        ),
        _track("Lead Generated", {"source": "Pricing Page Form", "lead_tag": "website-lead"}),
    ]
    plan = plan_contact("ve9EPM428h8vShlRW1KT", events, PRESET, CONTACT)
    assert plan.is_deliverable
    assert plan.request() == {
        "locationId": "ve9EPM428h8vShlRW1KT",
        "email": "sam@example.com",
        "phone": "+14155550142",
        "firstName": "Sam",
        "lastName": "Rivera",
        "source": "Pricing Page Form",
        "dnd": False,
    }
    assert "tags" not in plan.request(), "tags are added, never sent in the upsert"
    assert plan.tags == ["lead", "website-lead"]


def test_signed_up_source_from_the_method() -> None:
    plan = plan_contact(
        "L", [_track("Signed Up", {"method": "google", "email": "A@B.co"})], PRESET, CONTACT
    )
    assert plan.fields["source"] == "google" and plan.fields["email"] == "a@b.co"
    plan = plan_contact("L", [_track("Signed Up", {"email": "a@b.co"})], PRESET, CONTACT)
    assert plan.fields["source"] == "Signed Up"


@pytest.mark.parametrize(
    ("kind", "message", "dropped"),
    [
        ("identify", {}, False),
        ("track", {"event": "Signed Up"}, False),
        ("track", {"event": "Lead Generated"}, False),
        ("track", {"event": "Product Viewed"}, True),
        ("page", {}, True),
        ("screen", {}, True),
        ("group", {}, True),
        ("alias", {}, True),
    ],
)
def test_classify(kind: str, message: dict[str, Any], dropped: bool) -> None:
    assert (classify(kind, message, PRESET) is not None) is dropped


def test_consent_denied_and_channels_and_untouched() -> None:
    denied = {"consent": {"categoryPreferences": {"marketing": False}}}
    plan = plan_contact("L", [_identify({"email": "a@b.co"}, context=denied)], PRESET, CONTACT)
    assert plan.fields["dnd"] is True and "dndSettings" not in plan.fields
    channels = EventMapping(consent=Consent(dnd_channels=("Email", "SMS")))
    plan = plan_contact("L", [_identify({"email": "a@b.co"}, context=denied)], channels, CONTACT)
    assert plan.fields["dndSettings"] == {
        "Email": {"status": "active"},
        "SMS": {"status": "active"},
    }
    off = EventMapping(consent=None)
    plan = plan_contact("L", [_identify({"email": "a@b.co"}, context=denied)], off, CONTACT)
    assert "dnd" not in plan.fields, "without the consent mapping DND is untouched"
    other = {"consent": {"categoryPreferences": {"analytics": False}}}
    plan = plan_contact("L", [_identify({"email": "a@b.co"}, context=other)], PRESET, CONTACT)
    assert "dnd" not in plan.fields


def test_burst_coalesces_later_wins_and_profile_fills() -> None:
    burst = [
        _identify({"email": "a@b.co", "firstName": "Ann"}),
        _identify({"first_name": "Anne", "address": {"city": "London", "country": "GB"}}),
    ]
    plan = plan_contact("L", burst, PRESET, CONTACT)
    assert plan.fields["firstName"] == "Anne" and plan.fields["city"] == "London"
    assert plan.fields["country"] == "GB"
    lead = plan_contact("L", [_track("Lead Generated", {})], PRESET, CONTACT, plan.traits)
    assert lead.is_deliverable and lead.fields["email"] == "a@b.co"


def test_no_identity_or_bad_values_are_rejected() -> None:
    plan = plan_contact("L", [_track("Lead Generated", {"source": "x"})], PRESET, CONTACT)
    assert not plan.is_deliverable and "missing_email_and_phone" in [
        p.reason for p in plan.problems
    ]
    plan = plan_contact("L", [_identify({"email": "not-an-email"})], PRESET, CONTACT)
    assert not plan.is_deliverable and plan.problems[0].field == "email"


def test_config_refuses_unknown_keys_and_keeps_only_hashes() -> None:
    source = {"name": "web", "location_id": "L", "write_key_sha256": hash_key("k")}
    config = parse_config({"sources": [source]})
    assert config.source_for_key("k") is not None and config.source_for_key("x") is None
    assert hash_key("k") not in repr(config)
    with pytest.raises(ConfigError, match="surprise: Extra inputs"):
        parse_config({"sources": [source], "surprise": 1})
    with pytest.raises(ConfigError, match=r"mapping\.track"):
        parse_config({"sources": [source], "mapping": {"track": {"X": {"actoin": "upsert"}}}})
    single = EventsConfig.single("L", "secret-write-key", admin_key="adm")
    assert (
        "secret-write-key" not in repr(single)
        and single.is_admin("adm")
        and not single.is_admin("x")
    )
