"""``POST /webhooks/ghl``: HighLevel's webhooks in (built in the next step)."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute


def webhook_routes(service: Any) -> list[BaseRoute]:
    return []
