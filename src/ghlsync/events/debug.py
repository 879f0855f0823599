"""``GET /debug``: the event debugger page (built in a later step)."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute


def debug_routes(service: Any) -> list[BaseRoute]:
    return []
