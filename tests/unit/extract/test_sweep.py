"""Which load ids a full refresh may sweep (``ghlsync.extract.sweep.stale_load_ids``)."""

from __future__ import annotations

from ghlsync.extract.sweep import stale_load_ids


def test_only_loads_committed_before_this_runs_are_stale() -> None:
    committed = {"100.5": 1, "200.25": 2, "300.1": 3, "250.0": 4}
    # 250.0 was extracted before this run's 300.1 but committed after it: it stays
    assert stale_load_ids(["100.5", "200.25", "300.1", "250.0"], ["300.1"], committed) == [
        "100.5",
        "200.25",
    ]


def test_a_later_load_stays() -> None:
    committed = {"100.0": 1, "300.0": 2, "400.0": 3}
    assert stale_load_ids(["100.0", "300.0", "400.0"], ["300.0"], committed) == ["100.0"]


def test_nothing_is_stale_when_this_runs_package_is_not_committed() -> None:
    assert stale_load_ids(["100.0", "200.0"], ["300.0"], {"100.0": 1, "200.0": 2}) == []
    assert stale_load_ids(["100.0"], [], {"100.0": 1}) == []


def test_unknown_loads_are_ordered_by_their_id_and_odd_ids_are_kept() -> None:
    committed = {"300.0": 5}
    assert stale_load_ids(["99.9", "1000.0", "not-a-timestamp"], ["300.0"], committed) == ["99.9"]
    # ordered as numbers, not as text ("99.9" > "300.0" as text)
    assert stale_load_ids(
        ["1796241526.5", "1796241526.45"], ["1796241526.46"], {"1796241526.46": 1}
    ) == ["1796241526.45"]
