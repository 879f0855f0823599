"""Where the contract tests find HighLevel's official specs, and what they do without them.

The specs live beside the clone, in ``../shared/ghl-api`` (``apps/*.json``, ``apps/v3/``,
``docs/webhook events/``). Where that folder is absent, every contract module is skipped with
one line naming the path; with ``CI`` set a missing contract is a broken checkout, so the
modules fail instead (one line, no traceback).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GHL_API = Path(__file__).resolve().parents[3] / "shared" / "ghl-api"
APPS = GHL_API / "apps"


def require_specs() -> None:
    """Call at module level: skip (or under CI fail) the module when the specs are absent."""
    if APPS.is_dir():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but HighLevel's specs are missing at {APPS}", pytrace=False)
    pytest.skip(
        f"HighLevel's specs not found at {APPS} (../shared/ghl-api)", allow_module_level=True
    )
