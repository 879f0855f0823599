"""``ghlsync.events`` uses client and mapping only: never extract, push, emulator or cli."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "ghlsync"
FORBIDDEN = ("ghlsync.extract", "ghlsync.push", "ghlsync.emulator", "ghlsync.cli", "ghlsync.source")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_events_imports_no_sibling_layer() -> None:
    files = sorted((SRC / "events").rglob("*.py"))
    assert files
    for path in files:
        bad = {m for m in _imports(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_the_redis_limiter_stays_in_the_client_layer() -> None:
    imports = _imports(SRC / "client" / "limiter_redis.py")
    ours = {m for m in imports if m.startswith("ghlsync")}
    assert all(
        m.startswith(("ghlsync.client", "ghlsync.errors", "ghlsync.config")) for m in ours
    ), ours
