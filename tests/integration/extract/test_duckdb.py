"""Extract into DuckDB against the emulator over a socket: overlap, opportunity changes, failures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.run import run_extract
from tests.integration.extract.conftest import admin, config_for, count, emulator_items


def _ids(db: Path, table: str, location_id: str | None = None) -> list[str]:
    where = f" WHERE location_id = '{location_id}'" if location_id else ""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(f"SELECT id FROM highlevel.{table}{where} ORDER BY id").fetchall()  # noqa: S608
    return [r[0] for r in rows]


def test_second_run_reads_only_the_overlap_window(emulator: EmulatorServer, tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    config = config_for(emulator, page_size=50)
    first = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    assert first.ok, first.report.to_dict()
    assert first.report.totals()["contacts"] == 240
    searches = count(emulator, "POST /contacts/search")
    # definitions read once per location, shared by contacts, opportunities and their stream
    assert count(emulator, "GET /locations/{locationId}/customFields") == 2
    assert searches >= 2 * 3  # 120 contacts per location, 50 per page

    second = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    assert second.ok
    # one search per location; it returns only what changed in the last 5 minutes before the
    # bookmark (the newest seeded contacts), far below one page
    assert count(emulator, "POST /contacts/search") - searches == 2
    assert second.report.totals()["contacts"] < 50
    for request in admin(emulator, "GET", "/requests", params={"limit": 2})["requests"]:
        assert request["path"] != "/contacts/search" or request["body"]["filters"]
    assert len(_ids(db, "contacts")) == 240  # merge: the overlap made no duplicates
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT id) FROM highlevel.contacts").fetchone() == (240,)


def test_bookmark_is_per_location(emulator: EmulatorServer, tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    config = config_for(emulator)
    run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    _first, second = config.locations
    created = admin(
        emulator,
        "POST",
        f"/locations/{second}/contacts",
        json={"firstName": "Zed", "email": "zed@example.com"},
    )
    result = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    assert result.report.result(second, "contacts").records >= 1
    assert created["id"] in _ids(db, "contacts", second)
    assert len(_ids(db, "contacts")) == 241


def test_opportunity_creates_updates_deletes_arrive_exactly(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "x.duckdb"
    config = config_for(emulator)
    run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    loc = config.locations[0]
    items = emulator_items(emulator, loc, "opportunities")
    assert _ids(db, "opportunities", loc) == sorted(i["id"] for i in items)

    template = items[0]
    created = admin(
        emulator,
        "POST",
        f"/locations/{loc}/opportunities",
        json={
            "name": "New deal",
            "status": "open",
            "monetaryValue": 1234.5,
            "pipelineId": template["pipelineId"],
            "pipelineStageId": template["pipelineStageId"],
            "contactId": template.get("contactId"),
        },
    )
    updated_id, deleted_id = items[1]["id"], items[2]["id"]
    admin(
        emulator,
        "PATCH",
        f"/locations/{loc}/opportunities/{updated_id}",
        json={"monetaryValue": 999.0, "status": "won"},
    )
    admin(emulator, "DELETE", f"/locations/{loc}/opportunities/{deleted_id}")

    result = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    assert result.ok
    assert result.report.result(loc, "opportunities").deleted == 1
    now = emulator_items(emulator, loc, "opportunities")
    assert _ids(db, "opportunities", loc) == sorted(i["id"] for i in now)
    assert created["id"] in _ids(db, "opportunities", loc)
    assert deleted_id not in _ids(db, "opportunities")
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            f"SELECT monetary_value, status FROM highlevel.opportunities WHERE id = '{updated_id}'"  # noqa: S608
        ).fetchone()
        assert row == (999.0, "won")
        total = con.execute(
            "SELECT count(*), count(DISTINCT id) FROM highlevel.opportunities"
        ).fetchone()
    assert total is not None and total[0] == total[1] == sum(
        len(emulator_items(emulator, lid, "opportunities")) for lid in config.locations
    )


def test_forbidden_location_is_reported_and_others_complete(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "x.duckdb"
    config = config_for(emulator)
    good, bad = config.locations
    config = config.replace(tokens={**config.tokens, bad: config.tokens[good]})  # 403
    result = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    assert not result.ok
    assert result.report.failed_locations == [bad]
    assert "403" in result.report.result(bad, "contacts").message
    assert len(_ids(db, "contacts", good)) == 120
    assert _ids(db, "contacts", bad) == []
    assert _ids(db, "opportunities", good) == sorted(
        i["id"] for i in emulator_items(emulator, good, "opportunities")
    )


def test_stream_lacking_scope_is_skipped_with_a_warning(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    config = config_for(emulator)
    loc = config.locations[0]
    scopes = [
        "contacts.readonly",
        "locations.readonly",
        "locations/customFields.readonly",
        "users.readonly",
    ]
    token = admin(emulator, "POST", "/tokens", json={"locationId": loc, "scopes": scopes})["token"]
    config = config.replace(tokens={**config.tokens, loc: token})
    result = run_extract(
        config, to=f"duckdb:///{tmp_path / 'x.duckdb'}", pipelines_dir=str(tmp_path / "p")
    )
    assert result.ok
    assert result.report.result(loc, "opportunities").status == "skipped"
    assert result.report.result(loc, "contacts").status == "ok"
    assert any(
        "opportunities.readonly" in w and "opportunities" in w for w in result.report.warnings
    )
    assert result.report.result(config.locations[1], "opportunities").status == "ok"


def test_start_date_and_full_refresh(emulator: EmulatorServer, tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = config_for(emulator, start_date=since, streams=["contacts"])
    result = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    expected = sum(
        1
        for loc in config.locations
        for c in emulator_items(emulator, loc, "contacts")
        if c["dateUpdated"] >= since.replace("Z", "")
    )
    assert result.report.totals()["contacts"] == expected < 240
    config = config.replace(start_date=None)
    again = run_extract(
        config, to=f"duckdb:///{db}", full_refresh=True, pipelines_dir=str(tmp_path / "p")
    )
    assert again.report.totals()["contacts"] == 240
    assert len(_ids(db, "contacts")) == 240


def test_cli_json_summary_and_exit_code(emulator: EmulatorServer, tmp_path: Path) -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from ghlsync.cli.extract import register

    app = typer.Typer()
    register(app)
    config = config_for(emulator)
    good, bad = config.locations
    config_file = tmp_path / "c.json"
    config_file.write_text(
        json.dumps(
            {
                "base_url": config.base_url,
                "locations": [
                    {"id": good, "token": config.tokens[good]},
                    {"id": bad, "token": config.tokens[good]},  # 403
                ],
                "rate_limit": False,
            }
        )
    )
    args = ["extract", "--config", str(config_file), "--to", f"duckdb:///{tmp_path / 'x.duckdb'}"]
    args += ["--pipelines-dir", str(tmp_path / "p"), "--json", "--stream", "contacts"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert summary["failed_locations"] == [bad]
    assert summary["totals"]["contacts"] == 120
