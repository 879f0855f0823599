"""Who may import whom (STYLE.md "Layout"): every import of ``ghlsync`` in ``src/``, top-level,
inside functions and under ``TYPE_CHECKING`` alike, checked against the layers."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.import_graph import cycles, import_graph

SRC = Path(__file__).resolve().parents[2] / "src" / "ghlsync"

#: what each layer may import of ghlsync (besides itself)
ALLOWED = {
    "errors": set(),
    "config": {"errors"},
    "client": {"errors", "config"},
    "mapping": {"errors", "config"},
    "extract": {"errors", "config", "client", "mapping"},
    "push": {"errors", "config", "client", "mapping"},
    "events": {"errors", "config", "client", "mapping"},
    "emulator": set(),
    "cli": {"errors", "config", "client", "mapping", "extract", "push", "events", "emulator"},
    "source": {"extract"},  # ``ghlsync.source``: the public name of the dlt source
}
#: the one reasoned exception: the quickstart demo starts the emulator it extracts from
EXCEPTIONS = {("extract/quickstart.py", "emulator")}
#: modules doing I/O that the pure mapping layer never imports
IO_MODULES = {"httpx", "sqlite3", "socket", "asyncio", "requests", "urllib.request", "dlt"}


def _layer(path: Path) -> str:
    relative = path.relative_to(SRC)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 else path.stem


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:  # ``from ghlsync import client``
                if node.module == "ghlsync":
                    yield f"ghlsync.{alias.name}", node.lineno


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_each_module_imports_only_what_its_layer_may(path: Path) -> None:
    layer = _layer(path)
    assert layer in ALLOWED, f"{layer}: a new layer needs a rule here"
    where = str(path.relative_to(SRC))
    for name, line in _imports(path):
        parts = name.split(".")
        if parts[0] != "ghlsync":
            if layer == "mapping":
                assert name not in IO_MODULES and parts[0] not in IO_MODULES, (where, line, name)
            continue
        if len(parts) == 1 or parts[1] in {"__version__"}:
            continue  # the package itself: its version
        target = parts[1]
        if target == layer or (where, target) in EXCEPTIONS:
            continue
        assert target in ALLOWED[layer], f"{where}:{line} ({layer}) imports {name}"
        # another layer's private helpers stay private to it
        assert not any(p.startswith("_") for p in parts[2:]), f"{where}:{line} imports {name}"


def test_nothing_imports_the_cli() -> None:
    for path in _modules():
        if _layer(path) == "cli":
            continue
        for name, line in _imports(path):
            assert name.split(".")[:2] != ["ghlsync", "cli"], f"{path}:{line} imports {name}"


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from ghlsync.push import plan\nimport ghlsync.client._protocol\n")
    names = [name for name, _ in _imports(bad)]
    assert names == ["ghlsync.push", "ghlsync.client._protocol"]
    assert "push" not in ALLOWED["extract"] and "client" not in ALLOWED["emulator"]


def _describe(found: list[list[str]]) -> str:
    return "; ".join(" <-> ".join(component) for component in found)


def test_no_import_cycle_in_src_at_module_level() -> None:
    graph = import_graph(SRC, "ghlsync", top_level_only=True)
    assert len(graph) > 100  # every module was read
    assert cycles(graph) == [], f"import cycles: {_describe(cycles(graph))}"


def test_no_import_cycle_in_src_even_through_function_level_imports() -> None:
    found = cycles(import_graph(SRC, "ghlsync", top_level_only=False))
    assert found == [], f"import cycles: {_describe(found)}"


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_the_cycle_check_finds_a_cycle_and_only_a_cycle(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "__init__.py": "from pkg.a import A\n",
            "a.py": "from pkg.sub.b import B\nA = 1\n",
            "sub/__init__.py": "",
            "sub/b.py": "from ..c import C\nB = 2\n",
            "c.py": "import pkg.a\nC = 3\n",
            "d.py": "from pkg import c\n",
            "e.py": "def later():\n    from pkg import d\n",
            "f.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg import e\n"
                "try:\n    from pkg.d import x\nexcept ImportError:\n    pass\n"
            ),
        },
    )
    graph = import_graph(package, "pkg", top_level_only=True)
    assert graph["pkg.sub.b"] == {"pkg.c"}  # relative import resolved
    assert graph["pkg.d"] == {"pkg.c"}  # ``from pkg import c``: the module c
    assert graph["pkg.e"] == set() and graph["pkg.f"] == {"pkg.d"}
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    # a function-level import closes a second loop only when those are counted
    (package / "d.py").write_text("from pkg import c\nfrom pkg.e import later\n")
    (package / "e.py").write_text("def later():\n    from pkg import d\n")
    assert cycles(import_graph(package, "pkg", top_level_only=True)) == [
        ["pkg.a", "pkg.c", "pkg.sub.b"]
    ]
    assert cycles(import_graph(package, "pkg", top_level_only=False)) == [
        ["pkg.a", "pkg.c", "pkg.sub.b"],
        ["pkg.d", "pkg.e"],
    ]
    # breaking the loop clears it
    (package / "c.py").write_text("C = 3\n")
    assert cycles(import_graph(package, "pkg", top_level_only=True)) == []
