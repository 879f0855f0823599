"""What Ctrl-C says depends on how the destination commits: a DuckDB round is one transaction
(rolled back when cut), a dlt package loads first on the next run."""

from __future__ import annotations

from ghlsync.cli.extract import _Interrupt


def _after(interrupt: _Interrupt, *phases: str) -> str:
    for phase in phases:
        interrupt.on_phase(phase)
    return interrupt.line()


def test_cut_during_a_duckdb_round_says_it_is_read_again() -> None:
    line = _after(
        _Interrupt(native=True),
        "extracting",
        "loading 20000 rows into duckdb",
        "loading 3000 rows into duckdb",
    )
    assert line.startswith("interrupted while loading 3000 rows into duckdb: the 1 round(s)")
    assert "rolled back with its bookmarks, so the next run reads it again" in line
    assert line.endswith("a rerun resumes (exit 130)")


def test_cut_during_a_dlt_package_says_it_loads_first_next_time() -> None:
    line = _after(_Interrupt(), "extracting", "loading 500 rows into postgres")
    assert "the rest of it loads first on the next run" in line


def test_cut_before_any_load_says_nothing_was_loaded() -> None:
    line = _after(_Interrupt(native=True), "extracting")
    assert "nothing of this run was loaded and bookmarks did not advance" in line
