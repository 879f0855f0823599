"""``GHLClient`` is typed for its users although it runs the async client through a proxy:
generated Protocols (``_sync_types.py``), and signatures equal to ``AsyncGHLClient``'s."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from ghlsync.client import AsyncGHLClient, GHLClient, InMemoryLimiter
from ghlsync.client import sync as sync_module
from ghlsync.client.limiter import BudgetSnapshot


def _codegen() -> Any:
    """``scripts/sync_codegen.py`` (a developer tool, not in the wheel)."""
    path = Path(__file__).resolve().parents[3] / "scripts" / "sync_codegen.py"
    spec = importlib.util.spec_from_file_location("sync_codegen", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


codegen = _codegen()
TARGET, formatted, generate = codegen.TARGET, codegen.formatted, codegen.generate
resource_attributes = codegen.resource_attributes


def test_the_generated_sync_types_are_up_to_date() -> None:
    assert TARGET.read_text() == formatted(generate()), (
        "src/ghlsync/client/_sync_types.py is stale: run `.venv/bin/python scripts/sync_codegen.py`"
    )


def test_ghlclient_declares_every_resource_with_its_sync_protocol() -> None:
    tree = ast.parse(Path(sync_module.__file__).read_text())
    declared: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "GHLClient":
            for statement in ast.walk(node):
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    declared[statement.target.id] = ast.unparse(statement.annotation)
    for name, protocol in resource_attributes().items():
        assert declared.get(name) == protocol, name


def _shape(function: object) -> list[tuple[str, object, object]]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def test_signatures_equal_the_async_client() -> None:
    assert _shape(GHLClient.__init__) == _shape(AsyncGHLClient.__init__)
    assert _shape(GHLClient.request) == _shape(AsyncGHLClient.request)


def test_plain_data_passes_through_the_proxy_unwrapped() -> None:
    limiter = InMemoryLimiter(daily_store=None)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"users": []}))
    with GHLClient("t", transport=transport, limiter=limiter) as client:
        client.request("GET", "/users/", location_id="L1")
        snap = client.limiter.snapshot(client.bucket_key("L1"))
        assert isinstance(snap, BudgetSnapshot) and snap.remaining == 99


USER_CODE = """
from ghlsync.client import GHLClient

with GHLClient("pit-x") as client:
    reveal_type(client.contacts.get("c1", location_id="L1"))
    reveal_type(client.contacts.iterate("L1"))
    for record in client.contacts.iterate("L1"):
        reveal_type(record)
    client.contacts.get(123)
    GHLClient(base_url=1)
"""


def test_mypy_sees_the_types_a_user_gets(tmp_path: Path) -> None:
    snippet = tmp_path / "user_code.py"
    snippet.write_text(USER_CODE)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(snippet)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    out = done.stdout
    assert 'Revealed type is "TypedDict(ghlsync.client.resources.contacts.ContactResponse' in out
    assert 'Revealed type is "ghlsync.client._sync_types.SyncRecordStream"' in out, out
    assert 'Revealed type is "dict[str, Any]"' in out, out
    assert 'Argument 1 to "get" of "SyncContactsResource" has incompatible type "int"' in out, out
    assert 'Argument "base_url" to "GHLClient" has incompatible type "int"' in out, out
