"""Push under faults: injected 429/5xx/timeouts/resets with search lag, kill -9, the budget."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ghlsync.emulator import EmulatorServer
from tests.integration.push.conftest import (
    admin,
    by_email,
    loc,
    people,
    push,
    set_duplicates,
    token,
    write_csv,
)

FAULTS = "429:0.015,500:0.015,timeout:0.01,reset:0.01"  # 5% of calls


def _expected(rows: list[dict[str, str]]) -> dict[str, tuple[str, str, list[str]]]:
    return {row["email"]: (row["first_name"], row["company"], [row["segment"]]) for row in rows}


def _state(server: EmulatorServer) -> dict[str, tuple[str, str, list[str]]]:
    found = by_email(server)
    state = {}
    for email, items in found.items():
        if not email.endswith("@push.example.com"):
            continue
        assert len(items) == 1, f"{email} is in HighLevel {len(items)} times"
        contact = items[0]
        state[email] = (contact["firstName"], contact.get("companyName"), contact.get("tags"))
    return state


@pytest.mark.slow
@pytest.mark.parametrize("allowed", [True, False], ids=["duplicates-allowed", "refused"])
def test_injected_faults_with_search_lag_end_in_exactly_the_expected_state(
    server: EmulatorServer, tmp_path: Path, home: Path, allowed: bool
) -> None:
    set_duplicates(server, allowed)
    admin(server, "PUT", "/settings", json={"faults": FAULTS, "faultSeed": 11,
          "timeoutFaultSeconds": 0.2, "searchIndexDelayMs": 1500})  # fmt: skip
    rows = people(60)
    source = write_csv(tmp_path / "p.csv", rows)
    runs = 0
    result = None
    while runs < 6:
        runs += 1
        result = push(server, source, home, index_lag_s=3.0, concurrency=4)
        if result.ok:
            break
        rows_changed = rows[runs % 60]  # a real change between runs must also land
        rows_changed["company"] = f"Changed on run {runs}"
        source = write_csv(tmp_path / "p.csv", rows)
    assert result is not None and result.ok, result.locations[0]
    injected = admin(server, "GET", "/counts")["faults"]
    assert sum(injected.values()) > 0, "no fault was injected: the test proves nothing"
    admin(server, "PUT", "/settings", json={"faults": "", "searchIndexDelayMs": 0})
    assert _state(server) == _expected(rows)


@pytest.mark.slow
def test_kill_9_at_random_points_then_rerun_no_duplicate_no_loss(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    set_duplicates(server, True)  # the hard case: a create resent would be a duplicate
    admin(server, "PUT", "/settings", json={"faults": "slow:1.0@0.06s", "searchIndexDelayMs": 500})
    rows = people(80)
    source = write_csv(tmp_path / "p.csv", rows)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "fields: {email: email, firstName: first_name, companyName: company}\n"
        "tags_from: [segment]\n"
    )
    command = [
        str(Path(sys.executable).parent / "ghlsync"), "push", "--from", str(source), "--mapping",
        str(mapping), "-l", loc(server), "--token", token(server), "--base-url",
        server.base_url, "--no-rate-limit", "--batch-size", "10", "--concurrency", "2", "--json",
    ]  # fmt: skip
    env = {**os.environ, "GHLSYNC_HOME": str(home)}
    rng = random.Random(5)
    kills = 0
    for _ in range(3):
        # killed after a random number of the emulator's answers: mid-run, however fast or
        # slow the machine (a random wall-clock wait let a fast run finish before the kill)
        kill_after = admin(server, "GET", "/counts")["total"] + rng.randint(4, 40)
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        while process.poll() is None and admin(server, "GET", "/counts")["total"] < kill_after:
            assert time.monotonic() < deadline, "the push made no progress in 60 s"
            time.sleep(0.02)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
    assert kills >= 1, "the push finished before any kill: the test proves nothing"
    admin(server, "PUT", "/settings", json={"faults": "", "searchIndexDelayMs": 0})
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]
    assert _state(server) == _expected(rows)


def test_budget_reserve_stops_cleanly_and_the_next_run_resumes(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    admin(server, "PUT", "/settings", json={"dailyLimit": 40})
    rows = people(60)
    source = write_csv(tmp_path / "p.csv", rows)
    first = push(server, source, home, rate_limit=True, reserve=0.25, batch_size=10)
    report = first.locations[0]
    assert report.status == "budget_stopped", report
    assert "reserve" in report.message and not first.ok
    assert report.budget_left is not None and report.budget_left >= 10  # the reserve was kept
    assert 0 < report.created < 60
    admin(server, "PUT", "/settings", json={"dailyLimit": 100000})
    second = push(server, source, home, rate_limit=True, batch_size=10)
    assert second.ok, second.locations[0]
    assert second.locations[0].created + report.created == 60
    assert _state(server) == _expected(rows)
