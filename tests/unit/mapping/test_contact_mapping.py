"""The contact mapping: spec parsing, compilation against custom fields, record -> contact."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghlsync.errors import ConfigError
from ghlsync.extract.shape import shape
from ghlsync.mapping import (
    FieldDef,
    MappedContact,
    Rejected,
    compile_mapping,
    field_defs,
    load_mapping,
    parse_mapping,
    readable_custom_fields,
)

DEFS = [
    FieldDef(
        "f1",
        "contact.membership_status",
        "SINGLE_OPTIONS",
        "Membership Status",
        ("active", "paused", "cancelled"),
    ),
    FieldDef("f2", "contact.lifetime_value", "MONETORY", "Lifetime Value"),
    FieldDef("f3", "contact.renewal_date", "DATE", "Renewal Date"),
    FieldDef("f4", "contact.company_size", "NUMERICAL", "Company Size"),
    FieldDef("f5", "contact.interests", "CHECKBOX", "Interests", ("yoga", "pilates", "running")),
    FieldDef("f6", "contact.services", "MULTIPLE_OPTIONS", "Services", ("cleaning", "braces")),
    FieldDef("f7", "contact.preferred_channel", "RADIO", "Preferred Channel", ("email", "sms")),
    FieldDef("f8", "contact.call_notes", "LARGE_TEXT", "Call Notes"),
    FieldDef("f9", "contact.referral_code", "TEXT", "Referral Code"),
    FieldDef("f10", "contact.alternate_phone", "PHONE", "Alternate Phone"),
    FieldDef("f11", "contact.billing_email", "EMAIL", "Billing Email"),
    FieldDef("f12", "contact.contract", "FILE_UPLOAD", "Contract"),
    FieldDef("f13", "contact.score_a", "NUMERICAL", "Score"),
    FieldDef("f14", "contact.score_b", "NUMERICAL", "Score"),
    FieldDef("o1", "opportunity.deal_source", "TEXT", "Deal Source", model="opportunity"),
]


def mapped(result: MappedContact | Rejected) -> MappedContact:
    assert isinstance(result, MappedContact), result
    return result


def rejected(result: MappedContact | Rejected) -> Rejected:
    assert isinstance(result, Rejected), result
    return result


def test_the_issue_example_parses_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "fields: {email: email, phone: phone, firstName: first_name, companyName: company}\n"
        "defaults: {country: US, source: warehouse}\n"
        "tags: [synced]\n"
        "custom_fields: {contact.membership_status: status, contact.call_notes: notes}\n"
    )
    spec = load_mapping(path)
    assert spec.fields["firstName"] == "first_name"
    assert spec.tags == ("synced",)
    mapping = compile_mapping(
        spec, DEFS, ["email", "phone", "first_name", "company", "status", "notes"]
    )
    contact = mapped(
        mapping.map(
            {
                "email": "A@B.co",
                "phone": "",
                "first_name": " Ann ",
                "company": "Acme",
                "status": "Active",
                "notes": "called",
            }
        )
    )
    assert contact.fields == {
        "email": "a@b.co",
        "firstName": "Ann",
        "companyName": "Acme",
        "country": "US",
        "source": "warehouse",
        "customFields": [
            {"id": "f1", "field_value": "active"},
            {"id": "f8", "field_value": "called"},
        ],
    }
    assert contact.tags == {"synced"}


def test_every_spec_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        parse_mapping(
            {
                "fields": {"first_name": "a", "foo": "b"},
                "tagz": 1,
                "tags": [""],
                "defaults": {"bogus": 1},
            }
        )
    message = str(info.value)
    for expected in (
        "tagz: unknown key",
        "a tag is empty",
        "did you mean firstName",
        "fields.foo",
        "defaults.bogus",
        "5 problems",
    ):
        assert expected in message


def test_bad_yaml_and_missing_file_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("fields: {email: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_mapping(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_mapping(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="must be a mapping"):
        parse_mapping(["fields"])  # type: ignore[arg-type]


def test_custom_fields_by_key_short_key_or_id() -> None:
    spec = parse_mapping(
        {
            "custom_fields": {"contact.lifetime_value": "a", "company_size": "b", "f9": "c"},
            "fields": {"email": "email"},
            "auto_match": False,
        }
    )
    mapping = compile_mapping(spec, DEFS, ["email", "a", "b", "c"])
    contact = mapped(mapping.map({"a": "$1,250.50", "b": "12", "c": 7, "email": "x@y.io"}))
    assert contact.fields["customFields"] == [
        {"id": "f2", "field_value": 1250.5},
        {"id": "f4", "field_value": 12},
        {"id": "f9", "field_value": "7"},
    ]
    assert mapping.columns == {
        "email": "email",
        "contact.lifetime_value": "a",
        "contact.company_size": "b",
        "contact.referral_code": "c",
    }


def test_display_names_are_refused_with_candidates() -> None:
    spec = parse_mapping({"custom_fields": {"Lifetime Value": "a", "Score": "b", "nokey": "c"}})
    with pytest.raises(ConfigError) as info:
        compile_mapping(spec, DEFS, ["a", "b", "c"])
    message = str(info.value)
    assert "3 problems" in message
    assert "display name, not its key; write its key contact.lifetime_value" in message
    assert "display name of 2 custom fields" in message
    assert "contact.score_a" in message and "contact.score_b" in message
    assert "no contact custom field has the key or id 'nokey'" in message


def test_file_fields_and_missing_columns_and_opportunity_fields_are_refused() -> None:
    spec = parse_mapping(
        {
            "fields": {"email": "mail"},
            "custom_fields": {"contact.contract": "c", "deal_source": "d"},
        }
    )
    with pytest.raises(ConfigError) as info:
        compile_mapping(spec, DEFS, ["c", "d"])
    message = str(info.value)
    assert "FILE_UPLOAD fields cannot be written" in message
    assert "column 'mail' is not in the source" in message
    assert "no contact custom field has the key or id 'deal_source'" in message


def test_automatic_matching_by_alias_and_by_key_never_by_name() -> None:
    columns = [
        "E-Mail",
        "Phone Number",
        "First Name",
        "zip",
        "membership_status",
        "contact.company_size",
        "Lifetime Value",
        "unrelated",
    ]
    mapping = compile_mapping(parse_mapping({}), DEFS, columns)
    assert mapping.matched == {
        "E-Mail": "email",
        "Phone Number": "phone",
        "First Name": "firstName",
        "zip": "postalCode",
        "membership_status": "contact.membership_status",
        "contact.company_size": "contact.company_size",
    }
    # a display name is not matched, but it is said
    assert any("Lifetime Value" in w and "not its key" in w for w in mapping.warnings)


def test_ambiguous_automatic_matches_are_errors() -> None:
    with pytest.raises(ConfigError) as info:
        compile_mapping(parse_mapping({}), DEFS, ["email", "Email", "Score"])
    message = str(info.value)
    assert "'email', 'Email' all match email" in message
    assert "display name of 2 custom fields" in message
    # ignore resolves both
    mapping = compile_mapping(
        parse_mapping({"ignore": ["Email", "Score"]}), DEFS, ["email", "Email", "Score"]
    )
    assert mapping.matched == {"email": "email"}


@pytest.mark.parametrize(
    ("column", "raw", "sent"),
    [
        ("renewal_date", "2026-03-01T10:00:00Z", "2026-03-01"),
        ("company_size", "1,200", 1200),
        ("lifetime_value", "€99.90", 99.9),
        ("lifetime_value", 10, 10),
        ("interests", "yes", ["yoga"]),
        ("interests", ["Pilates", "running"], ["pilates", "running"]),
        ("services", "cleaning, Braces", ["cleaning", "braces"]),
        ("membership_status", "PAUSED", "paused"),
        ("preferred_channel", "sms", "sms"),
        ("call_notes", "  long text ", "long text"),
        ("referral_code", 42, "42"),
        ("alternate_phone", "415 555 2671", "+14155552671"),
        ("billing_email", " Pay@Acme.COM", "pay@acme.com"),
    ],
)
def test_coercion_for_every_data_type(column: str, raw: object, sent: object) -> None:
    mapping = compile_mapping(parse_mapping({}), DEFS, ["email", column])
    contact = mapped(mapping.map({"email": "a@b.io", column: raw}))
    assert contact.fields["customFields"][0]["field_value"] == sent


@pytest.mark.parametrize(
    ("column", "raw", "reason"),
    [
        ("renewal_date", "next week", "invalid_date"),
        ("company_size", "many", "invalid_number"),
        ("lifetime_value", True, "invalid_number"),
        ("interests", "knitting", "not_an_option"),
        ("services", "cleaning, gold", "not_an_option"),
        ("membership_status", "gone", "not_an_option"),
        ("preferred_channel", "fax", "not_an_option"),
        ("alternate_phone", "12", "invalid_phone"),
        ("billing_email", "nope", "invalid_email"),
        ("referral_code", ["a"], "invalid_value"),
    ],
)
def test_every_kind_of_bad_value_is_a_rejection(column: str, raw: object, reason: str) -> None:
    mapping = compile_mapping(parse_mapping({}), DEFS, ["email", column])
    result = rejected(mapping.map({"email": "a@b.io", column: raw}))
    assert [(p.field, p.reason) for p in result.problems] == [(f"contact.{column}", reason)]
    assert column in result.problems[0].detail


def test_identity_normalised_and_rejected() -> None:
    mapping = compile_mapping(
        parse_mapping({"default_region": "GB"}), DEFS, ["email", "phone", "country", "dob", "dnd"]
    )
    contact = mapped(
        mapping.map(
            {
                "email": " Ann@Example.COM ",
                "phone": "020 7946 0958",
                "country": "uk",
                "dob": "1990-05-04",
                "dnd": "no",
            }
        )
    )
    assert contact.fields == {
        "email": "ann@example.com",
        "phone": "+442079460958",
        "country": "GB",
        "dateOfBirth": "1990-05-04",
        "dnd": False,
    }
    assert rejected(mapping.map({"email": "", "phone": None})).problems[0].reason == (
        "missing_email_and_phone"
    )
    bad = rejected(
        mapping.map(
            {"email": "ann@", "phone": "12", "country": "Narnia", "dob": "x", "dnd": "maybe"}
        )
    )
    assert {p.reason for p in bad.problems} == {
        "invalid_email",
        "invalid_phone",
        "invalid_country",
        "invalid_date",
        "invalid_boolean",
    }
    assert bad.reasons.startswith("invalid_email;invalid_phone")


def test_segment_traits_nested_paths_dnd_channels_and_tags() -> None:
    spec = parse_mapping(
        {
            "fields": {
                "email": "email",
                "address1": "address.street",
                "city": "address.city",
                "companyName": "company.name",
                "dndSettings.SMS": "sms_opt_out",
                "dndSettings.Email": "email_dnd",
            },
            "tags": ["synced"],
            "tags_from": ["plan", "labels"],
            "defaults": {"contact.membership_status": "active"},
        }
    )
    mapping = compile_mapping(spec, DEFS)  # columns unknown (events): nothing auto-matched
    traits = {
        "email": "a@b.io",
        "address": {"street": "1 Main St", "city": "Austin"},
        "company": {"name": "Acme"},
        "sms_opt_out": True,
        "email_dnd": "permanent",
        "plan": "gold, vip",
        "labels": ["beta", " "],
    }
    contact = mapped(mapping.map(traits))
    assert contact.fields["address1"] == "1 Main St"
    assert contact.fields["city"] == "Austin"
    assert contact.fields["companyName"] == "Acme"
    assert contact.fields["dndSettings"] == {
        "SMS": {"status": "active"},
        "Email": {"status": "permanent"},
    }
    assert contact.fields["customFields"] == [{"id": "f1", "field_value": "active"}]
    assert contact.tags == {"synced", "gold", "vip", "beta"}
    # columns unknown (events): nothing is matched automatically
    assert mapping.matched == {}


def test_content_hash_and_fingerprint_follow_what_is_sent() -> None:
    base = compile_mapping(parse_mapping({"tags": ["a"]}), DEFS, ["email", "city"])
    same = compile_mapping(parse_mapping({"tags": ["a"]}), DEFS, ["email", "city"])
    other = compile_mapping(parse_mapping({"tags": ["b"]}), DEFS, ["email", "city"])
    assert base.fingerprint == same.fingerprint != other.fingerprint
    one = mapped(base.map({"email": "a@b.io", "city": "X"}))
    assert one.content_hash() == mapped(base.map({"email": "A@b.io ", "city": " X"})).content_hash()
    assert one.content_hash() != mapped(other.map({"email": "a@b.io", "city": "X"})).content_hash()


def test_extract_and_mapping_name_custom_columns_by_one_rule() -> None:
    raw = [
        {"id": "f1", "fieldKey": "contact.membership_status", "name": "Membership"},
        {"id": "f2", "name": "No Key"},  # a definition without fieldKey: no column, anywhere
        {"id": "f3", "fieldKey": "opportunity.deal_source"},
    ]
    values = [
        {"id": "f1", "value": "gold"},
        {"id": "f2", "value": "x"},
        {"id": "f3", "fieldValue": "web"},
    ]
    defs = field_defs(raw)
    expected = {"membership_status": "gold", "deal_source": "web"}
    assert readable_custom_fields(values, defs) == expected
    assert (
        shape({"id": "c1", "customFields": values}, "l1", defs)["custom_field_values"] == expected
    )
