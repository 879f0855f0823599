"""The CLI: ghlsync push (exit 0/1/2, --json, --dry-run), ghlsync contact update, quickstart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ghlsync.cli import _register, app
from ghlsync.client import GHLClient
from ghlsync.emulator import EmulatorServer
from ghlsync.push.writeback import ContactChange, update_contact_sync
from tests.integration.push.conftest import by_email, loc, people, token, write_csv

_register()
runner = CliRunner()


def cli(*args: str) -> object:
    return runner.invoke(app, list(args), catch_exceptions=False)


def base(server: EmulatorServer) -> list[str]:
    return ["-l", loc(server), "--token", token(server), "--base-url", server.base_url,
            "--no-rate-limit"]  # fmt: skip


def test_push_exit_codes_json_and_dry_run(server: EmulatorServer, tmp_path: Path,
                                          home: Path) -> None:  # fmt: skip
    source = write_csv(tmp_path / "p.csv", people(3))
    mapping = tmp_path / "m.yaml"
    mapping.write_text("fields: {email: email, firstName: first_name}\ntags: [cli]\n")
    dry = cli("push", "--from", str(source), "-m", str(mapping), *base(server), "--dry-run",
              "--json")  # fmt: skip
    assert dry.exit_code == 0, dry.output  # type: ignore[attr-defined]
    payload = json.loads(dry.stdout)  # type: ignore[attr-defined]
    assert payload["dry_run"] and payload["locations"][0]["created"] == 3
    assert payload["locations"][0]["samples"][0]["tags_add"] == ["cli"]
    assert "person0@push.example.com" not in by_email(server)
    ok = cli("push", "--from", str(source), "-m", str(mapping), *base(server), "--json")
    assert ok.exit_code == 0, ok.output  # type: ignore[attr-defined]
    assert json.loads(ok.stdout)["exit_code"] == 0  # type: ignore[attr-defined]
    bad_rows = write_csv(tmp_path / "b.csv", [*people(1), {"email": "nope"}])
    rejects = tmp_path / "rejects.csv"
    one = cli("push", "--from", str(bad_rows), "-m", str(mapping), *base(server), "--rejects",
              str(rejects))  # fmt: skip
    assert one.exit_code == 1  # type: ignore[attr-defined]
    assert "rejected 1 x invalid_email" in one.output  # type: ignore[attr-defined]
    assert "invalid_email" in rejects.read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mapping", "MISSING.yaml"], "does not exist"),
        (["--mode", "incremental_append"], "needs --cursor"),
        (
            ["--mirror", "delete", "--mode", "incremental_dedup", "--primary-key", "email"],
            "--mirror needs --mode full_refresh",
        ),
        (["--cursor", "nope", "--mode", "incremental_append"], "not in the source's columns"),
    ],
)
def test_push_bad_input_is_one_line_exit_2(server: EmulatorServer, tmp_path: Path, home: Path,
                                           extra: list[str], message: str) -> None:  # fmt: skip
    source = write_csv(tmp_path / "p.csv", people(1))
    result = cli("push", "--from", str(source), *base(server), *extra)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    lines = [line for line in result.output.splitlines() if line.strip()]  # type: ignore[attr-defined]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output  # type: ignore[attr-defined]


def test_a_mapping_that_cannot_work_lists_every_problem_and_sends_nothing(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    source = write_csv(tmp_path / "p.csv", people(1))
    mapping = tmp_path / "m.yaml"
    mapping.write_text("fields: {email: email, fistName: first_name}\n"
                       "custom_fields: {Membership Status: membership_status, contact.nope: x}\n")  # fmt: skip
    result = cli("push", "--from", str(source), "-m", str(mapping), *base(server))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    for part in ("fistName", "display name, not its key", "contact.nope", "column 'x'"):
        assert part in result.output  # type: ignore[attr-defined]
    assert "person0@push.example.com" not in by_email(server)


def test_contact_update_single_batch_and_sync_client(server: EmulatorServer, tmp_path: Path,
                                                     home: Path) -> None:  # fmt: skip
    source = write_csv(tmp_path / "p.csv", people(3))
    mapping = tmp_path / "m.yaml"
    mapping.write_text("fields: {email: email}\ntags: [bloodwork_scheduled]\n")
    assert cli("push", "--from", str(source), "-m", str(mapping), *base(server)).exit_code == 0  # type: ignore[attr-defined]
    summary = tmp_path / "summary.txt"
    summary.write_text("  AI summary, line 1\nline 2\n")
    analysis = tmp_path / "analysis.md"
    analysis.write_text("# Full analysis\n")
    result = cli("contact", "update", "--email", "Person0@push.example.com", *base(server)[:-1],
                 "--set", f"contact.notes_summary=@{summary}", "--set", "membership_status=Paused",
                 "--add-tag", "bloodwork_completed", "--remove-tag", "bloodwork_scheduled",
                 "--note", f"@{analysis}", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    done = json.loads(result.stdout)[0]  # type: ignore[attr-defined]
    contact = by_email(server)["person0@push.example.com"][0]
    assert done["contact_id"] == contact["id"] and done["note_id"]
    assert contact["tags"] == ["bloodwork_completed"]
    values = sorted(str(f["value"]) for f in contact["customFields"])
    assert values == ["  AI summary, line 1\nline 2\n", "paused"]
    changes = tmp_path / "changes.jsonl"
    changes.write_text(
        json.dumps({"email": "person1@push.example.com", "add_tags": ["vip"]})
        + "\n"
        + json.dumps({"email": "nobody@push.example.com", "add_tags": ["vip"]})
        + "\n"
    )
    batch = cli("contact", "update", "--from", str(changes), *base(server)[:-1])
    assert batch.exit_code == 1  # type: ignore[attr-defined]
    assert "no contact with email nobody@push.example.com" in batch.output  # type: ignore[attr-defined]
    assert "vip" in by_email(server)["person1@push.example.com"][0]["tags"]
    bad = cli("contact", "update", "--from", str(tmp_path / "p.csv"), *base(server)[:-1])
    assert bad.exit_code == 2  # type: ignore[attr-defined]
    with GHLClient(token(server), base_url=server.base_url, limiter=None) as client:
        outcome = update_contact_sync(
            client, loc(server), ContactChange(email="person2@push.example.com", add_tags=("sync",))
        )
    assert outcome.ok and "sync" in by_email(server)["person2@push.example.com"][0]["tags"]


@pytest.mark.slow
def test_quickstart_pushes_shows_rejects_then_extracts(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).parent / "ghlsync")
    result = subprocess.run([exe, "quickstart", "--contacts", "60", "--database",
                             str(tmp_path / "q.duckdb")], capture_output=True, text=True,
                            timeout=600, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout + result.stderr
    assert "4 rows were rejected" in out
    for reason in ("missing_email_and_phone", "invalid_email", "not_an_option", "invalid_number"):
        assert reason in out
    assert "Contacts by source" in out and "ghlsync quickstart" in out
    kept = tmp_path / "q-rejects.csv"  # the path printed exists after the command (issue 15)
    assert str(kept) in out and kept.read_text().count("\n") == 5
