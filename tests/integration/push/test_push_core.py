"""ghlsync push against the emulator: duplicates, reruns, tags, coercion, rejects, modes."""

from __future__ import annotations

from pathlib import Path

import httpx

from ghlsync.emulator import EmulatorServer
from tests.integration.push.conftest import (
    admin,
    all_calls,
    by_email,
    contacts,
    loc,
    people,
    push,
    set_duplicates,
    token,
    write_calls,
    write_csv,
)


def _seeded(server: EmulatorServer) -> dict[str, object]:
    return next(c for c in contacts(server) if c.get("email"))


def test_duplicates_refused_updates_the_existing_contact_and_keeps_its_tags(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    existing = _seeded(server)
    admin(server, "PATCH", f"/locations/{loc(server)}/contacts/{existing['id']}",
          json={"tags": ["set-by-workflow"]})  # fmt: skip
    rows = [*people(3), {"email": existing["email"], "first_name": "Renamed", "segment": "vip"}]
    result = push(server, write_csv(tmp_path / "p.csv", rows), home)
    report = result.locations[0]
    assert result.ok, report
    assert report.duplicates_allowed is False
    assert (report.created, report.updated) == (3, 1)
    found = by_email(server)
    assert len(found[str(existing["email"])]) == 1
    updated = found[str(existing["email"])][0]
    assert updated["firstName"] == "Renamed"
    assert set(updated["tags"]) == {"set-by-workflow", "vip"}  # nothing wiped
    for row in people(3):
        assert len(found[row["email"]]) == 1


def test_duplicates_allowed_creates_a_new_contact_and_says_so(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    set_duplicates(server, True)
    existing = _seeded(server)
    rows = [{"email": existing["email"], "first_name": "Twin", "segment": "vip"}]
    mapping = {"fields": {"email": "email", "firstName": "first_name"}, "tags_from": ["segment"]}
    result = push(server, write_csv(tmp_path / "p.csv", rows), home, mapping=mapping)
    report = result.locations[0]
    assert result.ok, report
    assert report.duplicates_allowed is True
    assert (report.created, report.updated) == (1, 0)
    twins = by_email(server)[str(existing["email"])]
    assert len(twins) == 2
    new = next(c for c in twins if c["id"] != existing["id"])
    assert new["tags"] == ["vip"] and new["firstName"] == "Twin"
    # the rerun changes nothing and makes no third contact
    again = push(server, write_csv(tmp_path / "p.csv", rows), home, mapping=mapping)
    assert again.locations[0].unchanged == 1
    assert len(by_email(server)[str(existing["email"])]) == 2


def test_rerun_with_ten_percent_changed_sends_exactly_those(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    rows = people(40)
    first = push(server, write_csv(tmp_path / "p.csv", rows), home)
    assert first.ok and first.locations[0].created == 40
    before = all_calls(server)
    unchanged = push(server, write_csv(tmp_path / "p.csv", rows), home)
    assert unchanged.locations[0].unchanged == 40
    assert all_calls(server) - before == 2  # custom fields + location settings, no writes
    for i in range(0, 40, 10):
        rows[i]["company"] = "Changed Inc"  # 4 rows: 10%
    before_writes = write_calls(server)
    rerun = push(server, write_csv(tmp_path / "p.csv", rows), home)
    report = rerun.locations[0]
    assert (report.updated, report.unchanged, report.created) == (4, 36, 0)
    assert write_calls(server) - before_writes == 4
    found = by_email(server)
    assert found["person10@push.example.com"][0]["companyName"] == "Changed Inc"
    assert found["person11@push.example.com"][0]["companyName"] == "Company 4"


def test_a_changed_mapping_resends_only_the_rows_it_changes(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    rows = people(10)
    source = write_csv(tmp_path / "p.csv", rows)
    push(server, source, home)
    mapping = {
        "fields": {"email": "email", "firstName": "first_name", "companyName": "company"},
        "custom_fields": {"contact.membership_status": "membership_status"},
        "tags_from": ["segment"],
        "defaults": {"contact.referral_code": "R1"},  # a new constant: every row changes
    }
    before = write_calls(server)
    changed = push(server, source, home, mapping=mapping)
    assert changed.locations[0].updated == 10
    assert write_calls(server) - before == 10
    # a mapping change that moves no outgoing value (a column ignored) sends nothing
    same = dict(mapping, ignore=["unused"])
    before = write_calls(server)
    again = push(server, source, home, mapping=same)
    assert again.locations[0].unchanged == 10 and write_calls(server) == before


def test_tags_set_by_others_survive_and_only_our_tags_are_removed(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    rows = [{"email": "tags@push.example.com", "segment": "alpha, beta"}]
    mapping = {"fields": {"email": "email"}, "tags_from": ["segment"]}
    push(server, write_csv(tmp_path / "p.csv", rows), home, mapping=mapping)
    contact = by_email(server)["tags@push.example.com"][0]
    headers = {"Authorization": f"Bearer {token(server)}", "Version": "2021-07-28"}
    # someone else adds "gamma" and also "beta" (already there: not theirs, but not ours only)
    httpx.post(f"{server.base_url}/contacts/{contact['id']}/tags", json={"tags": ["gamma"]},
               headers=headers, timeout=10).raise_for_status()  # fmt: skip
    rows[0]["segment"] = "beta, delta"  # alpha dropped by the source
    result = push(server, write_csv(tmp_path / "p.csv", rows), home, mapping=mapping)
    report = result.locations[0]
    assert (report.tags_added, report.tags_removed, report.tags_only) == (1, 1, 1)
    tags = set(by_email(server)["tags@push.example.com"][0]["tags"])
    assert tags == {"beta", "gamma", "delta"}


def test_a_tag_that_was_there_before_the_sync_is_never_removed(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    existing = _seeded(server)
    admin(server, "PATCH", f"/locations/{loc(server)}/contacts/{existing['id']}",
          json={"tags": ["vip"]})  # fmt: skip
    mapping = {"fields": {"email": "email"}, "tags_from": ["segment"]}
    rows = [{"email": existing["email"], "segment": "vip, new"}]
    push(server, write_csv(tmp_path / "p.csv", rows), home, mapping=mapping)
    rows[0]["segment"] = ""
    push(server, write_csv(tmp_path / "p.csv", rows), home, mapping=mapping)
    assert by_email(server)[str(existing["email"])][0]["tags"] == ["vip"]


def test_coercion_for_every_data_type_lands_in_highlevel(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    row = {
        "email": "types@push.example.com",
        "membership_status": "Paused",
        "notes_summary": "  long text  ",
        "company_size": "1,200",
        "alternate_phone": "(415) 555-2671",
        "lifetime_value": "$99.50",
        "interests": "yoga, Running",
        "preferred_channel": "SMS",
        "services": "cleaning",
        "renewal_date": "2027-01-31T10:00:00Z",
        "referral_code": "R-7",
        "billing_email": " Pay@Example.COM ",
    }
    result = push(server, write_csv(tmp_path / "p.csv", [row]), home, mapping={})
    assert result.ok, result.locations[0]
    contact = by_email(server)["types@push.example.com"][0]
    headers = {"Authorization": f"Bearer {token(server)}", "Version": "2021-07-28"}
    answer = httpx.get(f"{server.base_url}/locations/{loc(server)}/customFields",
                       headers=headers, timeout=10).json()  # fmt: skip
    fields = {f["id"]: f for f in answer["customFields"]}
    stored = {fields[item["id"]]["fieldKey"]: item["value"] for item in contact["customFields"]}
    assert stored == {
        "contact.membership_status": "paused",
        "contact.notes_summary": "long text",  # text is trimmed like names
        "contact.company_size": 1200,
        "contact.alternate_phone": "+14155552671",
        "contact.lifetime_value": 99.5,
        "contact.interests": ["yoga", "running"],
        "contact.preferred_channel": "sms",
        "contact.services": ["cleaning"],
        "contact.renewal_date": "2027-01-31",
        "contact.referral_code": "R-7",
        "contact.billing_email": "pay@example.com",
    }


def test_every_kind_of_bad_row_is_rejected_and_the_run_goes_on(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        "email,phone,first_name,membership_status,company_size,renewal_date,country\n"
        "good@push.example.com,,Good,active,3,2027-01-01,US\n"
        ",,NoIdentity,active,,,\n"
        "not-an-email,,BadEmail,,,,\n"
        ",12,BadPhone,,,,\n"
        "opt@push.example.com,,BadOption,platinum,,,\n"
        "num@push.example.com,,BadNumber,,lots,,\n"
        "date@push.example.com,,BadDate,,,someday,\n"
        "country@push.example.com,,BadCountry,,,,Narnia\n"
        "extra@push.example.com,,Extra,active,1,2027-01-01,US,surplus\n"
        "good2@push.example.com,4155552671,Good2,paused,,,\n"
    )
    rejects = tmp_path / "rejects.csv"
    result = push(server, source, home, mapping={}, rejects=str(rejects))
    report = result.locations[0]
    assert not result.ok
    assert report.created == 2
    assert dict(report.rejected) == {
        "missing_email_and_phone": 1,
        "invalid_email": 1,
        "invalid_phone": 1,
        "not_an_option": 1,
        "invalid_number": 1,
        "invalid_date": 1,
        "invalid_country": 1,
        "malformed_row": 1,
    }
    lines = rejects.read_text().splitlines()
    assert lines[0].endswith("_raw,reason,field,detail")
    assert len(lines) == 9
    assert any(line.startswith("opt@push.example.com,,BadOption,platinum") and
               "not_an_option,contact.membership_status" in line for line in lines)  # fmt: skip
    assert set(by_email(server)) >= {"good@push.example.com", "good2@push.example.com"}


def test_upsert_email_phone_conflict_is_reported_with_both_ids(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    headers = {"Authorization": f"Bearer {token(server)}", "Version": "2021-07-28"}
    made = []
    for body in ({"email": "a@conflict.example.com"}, {"phone": "+14155550101"}):
        response = httpx.post(f"{server.base_url}/contacts/", json={"locationId": loc(server),
                              **body}, headers=headers, timeout=10)  # fmt: skip
        made.append(response.json()["contact"]["id"])
    rows = [{"email": "a@conflict.example.com", "phone": "+14155550101"}]
    result = push(server, write_csv(tmp_path / "p.csv", rows), home, mapping={})
    report = result.locations[0]
    assert not result.ok
    assert len(report.conflicts) == 1
    conflict = report.conflicts[0]
    assert (conflict.contact_id, conflict.other_contact_id, conflict.dropped) == (*made, "phone")
    assert report.failed["email_phone_conflict"] == 1


def test_dry_run_writes_nothing_and_shows_the_plan(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    source = write_csv(tmp_path / "p.csv", people(5))
    push(server, source, home)
    rows = people(6)
    rows[0]["company"] = "Planned Change"
    before = write_calls(server)
    result = push(server, write_csv(tmp_path / "p.csv", rows), home, dry_run=True)
    report = result.locations[0]
    assert write_calls(server) == before
    assert report.status == "dry_run"
    assert (report.created, report.updated, report.unchanged) == (1, 1, 4)
    sample = next(s for s in report.samples if s["action"] == "update")
    assert sample["changes"] == {"companyName": {"from": "Company 0", "to": "Planned Change"}}
    # and the real run after it still does the work
    real = push(server, write_csv(tmp_path / "p.csv", rows), home)
    assert (real.locations[0].created, real.locations[0].updated) == (1, 1)


def test_incremental_append_and_dedup(server: EmulatorServer, tmp_path: Path, home: Path) -> None:
    rows = [dict(row, updated_at=f"2026-01-{i + 1:02d}") for i, row in enumerate(people(4))]
    source = write_csv(tmp_path / "p.csv", rows)
    first = push(server, source, home, mode="incremental_append", cursor="updated_at")
    assert first.locations[0].created == 4 and first.locations[0].cursor == "2026-01-04"
    rows[0]["company"] = "Old row edited"  # cursor not moved: not read again
    rows.append(dict(people(1, start=50)[0], updated_at="2026-02-01"))
    second = push(server, write_csv(tmp_path / "p.csv", rows), home,
                  mode="incremental_append", cursor="updated_at")  # fmt: skip
    report = second.locations[0]
    assert (report.created, report.updated, report.skipped) == (1, 0, 4)
    assert by_email(server)["person0@push.example.com"][0]["companyName"] == "Company 0"
    dup_rows = [
        {"id": "k1", "email": "dedup@push.example.com", "company": "First", "v": "2"},
        {"id": "k1", "email": "dedup@push.example.com", "company": "Latest", "v": "10"},
        {"id": "k1", "email": "dedup@push.example.com", "company": "Stale", "v": "3"},
    ]
    mapping = {"fields": {"email": "email", "companyName": "company"}}
    result = push(server, write_csv(tmp_path / "d.csv", dup_rows), home, mapping=mapping,
                  mode="incremental_dedup", primary_key=("id",), cursor="v", sync="dedup")  # fmt: skip
    assert result.locations[0].created == 1 and result.locations[0].superseded == 2
    assert by_email(server)["dedup@push.example.com"][0]["companyName"] == "Latest"


def test_mirror_untag_delete_and_refusal_above_the_threshold(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    rows = people(20)
    options = {"mirror": "untag", "max_delete_pct": 10.0}
    push(server, write_csv(tmp_path / "p.csv", rows), home, **options)
    assert "ghlsync-default" in by_email(server)["person0@push.example.com"][0]["tags"]
    # 2 of 20 gone (10%): untagged
    result = push(server, write_csv(tmp_path / "p.csv", rows[2:]), home, **options)
    assert result.ok and result.locations[0].untagged == 2
    assert "ghlsync-default" not in by_email(server)["person0@push.example.com"][0]["tags"]
    # 5 of 18 gone (28%): refused, nothing touched
    refused = push(server, write_csv(tmp_path / "p.csv", rows[7:]), home, **options)
    report = refused.locations[0]
    assert not refused.ok and report.failed["mirror_refused"] == 1 and report.untagged == 0
    assert "above --max-delete-pct" in report.warnings[-1]
    assert "ghlsync-default" in by_email(server)["person3@push.example.com"][0]["tags"]
    # delete, allowed by a higher threshold: the contacts this sync created are deleted
    deleted = push(server, write_csv(tmp_path / "p.csv", rows[7:]), home, mirror="delete",
                   max_delete_pct=50.0)  # fmt: skip
    assert deleted.locations[0].deleted == 5
    emails = set(by_email(server))
    assert "person3@push.example.com" not in emails and "person7@push.example.com" in emails


def test_many_locations_one_failure_reported_the_others_finish(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    source = write_csv(tmp_path / "p.csv", people(5))
    tokens = {loc(server, 0): token(server, 0), loc(server, 1): "pit-wrong-token-0000"}
    result = push(server, source, home, locations=(loc(server, 0), loc(server, 1)), tokens=tokens)
    first, second = result.locations
    assert first.status == "ok" and first.created == 5
    assert second.status == "failed" and second.message
    assert "pit-wrong" not in second.message
    assert not result.ok


def test_location_column_routes_rows(server: EmulatorServer, tmp_path: Path, home: Path) -> None:
    rows = people(6)
    for i, row in enumerate(rows):
        row["location"] = loc(server, i % 2)
    result = push(server, write_csv(tmp_path / "p.csv", rows), home, locations=(),
                  location_column="location")  # fmt: skip
    assert [r.created for r in result.locations] == [3, 3]
    assert "person1@push.example.com" in by_email(server, 1)
    assert "person1@push.example.com" not in by_email(server, 0)


def test_a_row_rejected_this_run_is_not_mirrored_away(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    rows = people(20)
    options = {"mirror": "delete", "max_delete_pct": 50.0}
    push(server, write_csv(tmp_path / "p.csv", rows), home, **options)
    rows[5]["membership_status"] = "not-an-option"  # rejected, but still in the source
    result = push(server, write_csv(tmp_path / "p.csv", rows[:19]), home, **options)
    report = result.locations[0]
    assert report.rejected["not_an_option"] == 1
    assert report.deleted == 1  # only person19, gone from the source
    emails = set(by_email(server))
    assert "person5@push.example.com" in emails and "person19@push.example.com" not in emails
