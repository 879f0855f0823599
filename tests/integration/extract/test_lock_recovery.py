"""One run per pipeline (issue 11, item 2): a second ``ghlsync extract`` is told who holds the
pipeline and exits 4; what a killed run left in the working dir is recovered or discarded."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.run import PipelineLocked, destination_for, pipeline_name_for, run_extract
from ghlsync.source import highlevel_source
from tests.integration.extract.conftest import admin, config_for, emulator_items

CLI = "from ghlsync.cli import main; main()"
PG = "postgres://postgres@127.0.0.1:5432/test"


def _config_file(server: EmulatorServer, path: Path) -> Path:
    config = config_for(server)
    path.write_text(
        json.dumps(
            {
                "base_url": config.base_url,
                "locations": [{"id": i, "token": config.tokens[i]} for i in config.locations],
                "rate_limit": False,
                "streams": ["contacts"],
            }
        )
    )
    return path


def _cli(
    config_file: Path, url: str, pipelines: Path, *extra: str, dataset: str = "highlevel"
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", CLI, "extract", "--config", str(config_file), "--to", url]
    command += ["--pipelines-dir", str(pipelines), "--dataset", dataset, "--json", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def pg_dataset() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        con = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3)
    except Exception as error:  # any failure to connect means: no server here
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432/test unreachable: {type(error).__name__}")
    dataset = f"ghl_lock_{uuid.uuid4().hex[:10]}"
    try:
        yield dataset
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset} CASCADE")
            cur.execute(f"DROP SCHEMA IF EXISTS {dataset}_staging CASCADE")
        con.commit()
        con.close()


def _second_run_while_loading(
    emulator: EmulatorServer,
    tmp_path: Path,
    url: str,
    dataset: str,
    second_pipelines: Path,
) -> tuple[subprocess.CompletedProcess[str], Any]:
    """A full refresh paused before its load; meanwhile a second CLI run starts."""
    config_file = _config_file(emulator, tmp_path / "c.json")
    pipelines = tmp_path / "p"
    config = config_for(emulator, streams=["contacts"])
    assert run_extract(config, to=url, dataset=dataset, pipelines_dir=str(pipelines)).ok
    seen: list[subprocess.CompletedProcess[str]] = []

    def on_phase(text: str) -> None:
        if text.startswith("loading ") and not seen:
            seen.append(_cli(config_file, url, second_pipelines, dataset=dataset))

    result = run_extract(
        config,
        to=url,
        dataset=dataset,
        full_refresh=True,
        pipelines_dir=str(pipelines),
        on_phase=on_phase,
    )
    assert seen, "the refresh never reached its load"
    return seen[0], result


def _assert_told_who(second: subprocess.CompletedProcess[str], what: str) -> None:
    assert second.returncode == 4, second.stderr[-2000:]
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, second.stderr
    line = lines[0]
    assert line.startswith("error: ") and what in line
    assert f"pid {os.getpid()} on {socket.gethostname()} since 20" in line
    assert "Traceback" not in second.stderr
    assert json.loads(second.stdout)["exit_code"] == 4


def test_second_run_on_a_duckdb_pipeline_is_told_who_holds_it(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    url = f"duckdb:///{tmp_path / 'x.duckdb'}"
    second, refresh = _second_run_while_loading(
        emulator, tmp_path, url, "highlevel", tmp_path / "p"
    )
    _assert_told_who(second, "pipeline ghlsync_")
    assert refresh.ok and refresh.refreshed == {}  # nothing was stale: every row is still there
    with duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True) as con:
        row = con.execute("SELECT count(*), count(DISTINCT id) FROM highlevel.contacts").fetchone()
    assert row == (240, 240)
    # the lock went with the run: the next one runs
    again = _cli(_config_file(emulator, tmp_path / "c.json"), url, tmp_path / "p")
    assert again.returncode == 0, again.stderr[-2000:]


def test_postgres_run_from_another_pipelines_dir_is_refused(
    emulator: EmulatorServer, tmp_path: Path, pg_dataset: str
) -> None:
    # another machine (another pipelines dir): only PostgreSQL's advisory lock can tell
    second, refresh = _second_run_while_loading(
        emulator, tmp_path, PG, pg_dataset, tmp_path / "elsewhere"
    )
    _assert_told_who(second, f"dataset {pg_dataset} on PostgreSQL")
    assert refresh.ok


def test_same_pipeline_in_one_process_is_refused(emulator: EmulatorServer, tmp_path: Path) -> None:
    url, pipelines = f"duckdb:///{tmp_path / 'x.duckdb'}", str(tmp_path / "p")
    config = config_for(emulator, streams=["users"])
    refused: list[PipelineLocked] = []

    def on_phase(text: str) -> None:
        if text == "extracting" and not refused:
            with pytest.raises(PipelineLocked) as error:
                run_extract(config, to=url, pipelines_dir=pipelines)
            refused.append(error.value)

    assert run_extract(config, to=url, pipelines_dir=pipelines, on_phase=on_phase).ok
    assert refused and "this run did not start" in str(refused[0])


# -- what a killed run leaves behind -------------------------------------------------------------


def _pipeline(url: str, pipelines: Path) -> Any:
    return dlt.pipeline(
        pipeline_name_for(destination_for(url).identity, "highlevel"),
        destination=destination_for(url).destination,
        dataset_name="highlevel",
        pipelines_dir=str(pipelines),
    )


def _contacts(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT id FROM highlevel.contacts").fetchall()]


def _expected(emulator: EmulatorServer) -> set[str]:
    config = config_for(emulator)
    return {c["id"] for loc in config.locations for c in emulator_items(emulator, loc, "contacts")}


def _late_contact(emulator: EmulatorServer) -> None:
    loc = config_for(emulator).locations[0]
    admin(emulator, "POST", f"/locations/{loc}/contacts", json={"firstName": "Late"})


def _warnings(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr[-2000:]
    warnings: list[str] = json.loads(done.stdout)["warnings"]
    return warnings


def test_orphan_extract_folder_is_discarded(emulator: EmulatorServer, tmp_path: Path) -> None:
    db, pipelines = tmp_path / "x.duckdb", tmp_path / "p"
    config_file = _config_file(emulator, tmp_path / "c.json")
    assert _cli(config_file, f"duckdb:///{db}", pipelines).returncode == 0
    working = pipelines / pipeline_name_for(
        destination_for(f"duckdb:///{db}").identity, "highlevel"
    )
    # a dlt pipeline's working dir (dlt wrote this warehouse before), and what dlt's extract
    # writes before committing a package, as a kill -9 leaves it
    (working / "normalize" / "extracted").mkdir(parents=True)
    (working / "normalize" / ".version").write_text("1")
    orphan = working / "normalize" / "a1b2c3d4"
    (orphan / "1796000000.5" / "new_jobs").mkdir(parents=True)
    (orphan / "1796000000.5" / "new_jobs" / "contacts.abc.0.parquet").write_bytes(b"x" * 2_000_000)
    warnings = _warnings(_cli(config_file, f"duckdb:///{db}", pipelines))
    assert [w for w in warnings if w.startswith("discarded the unfinished extract")] == [
        "discarded the unfinished extract of a killed run (normalize/a1b2c3d4, 2.0 MB): nothing "
        "of it was loaded or bookmarked, so this run reads it again"
    ]
    assert not orphan.exists()
    assert sorted(p.name for p in (working / "normalize").iterdir()) == [".version", "extracted"]


def test_leftover_extracted_copy_of_a_normalized_package_is_recovered(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Killed between normalize's commit and its delete of the extracted copy: that copy, half
    deleted, failed every later run with exit 3 (dlt's normalize looked for its schema.json)."""
    db, pipelines = tmp_path / "x.duckdb", tmp_path / "p"
    url = f"duckdb:///{db}"
    config_file = _config_file(emulator, tmp_path / "c.json")
    assert _cli(config_file, url, pipelines).returncode == 0
    _late_contact(emulator)
    pipeline = _pipeline(url, pipelines)
    pipeline.extract(highlevel_source(config_for(emulator, streams=["contacts"])))
    (load_id,) = pipeline.list_extracted_load_packages()
    extracted = Path(pipeline.working_dir) / "normalize" / "extracted" / load_id
    shutil.copytree(extracted, tmp_path / "copy")
    pipeline.normalize()
    shutil.copytree(tmp_path / "copy", extracted)
    (extracted / "schema.json").unlink()  # normalize's delete had begun
    warnings = _warnings(_cli(config_file, url, pipelines))
    assert any(w.startswith(f"recovered load package {load_id}") for w in warnings), warnings
    ids = _contacts(db)
    assert len(ids) == len(set(ids)) == 241 and set(ids) == _expected(emulator)


def test_half_written_normalized_package_is_discarded_and_read_again(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    db, pipelines = tmp_path / "x.duckdb", tmp_path / "p"
    url = f"duckdb:///{db}"
    config_file = _config_file(emulator, tmp_path / "c.json")
    assert _cli(config_file, url, pipelines).returncode == 0
    _late_contact(emulator)
    pipeline = _pipeline(url, pipelines)
    pipeline.extract(highlevel_source(config_for(emulator, streams=["contacts"])))
    pipeline.normalize()  # the local bookmarks now include the late contact
    (load_id,) = pipeline.list_normalized_load_packages()
    (Path(pipeline.working_dir) / "load" / "normalized" / load_id / "schema.json").unlink()
    warnings = _warnings(_cli(config_file, url, pipelines))
    assert any(w.startswith(f"discarded load package {load_id}") for w in warnings), warnings
    ids = _contacts(db)  # the package's rows were read again: the late contact is there
    assert len(ids) == len(set(ids)) == 241 and set(ids) == _expected(emulator)
    again = _cli(config_file, url, pipelines)
    assert _warnings(again) == []
