"""Workflows (``apps/workflows.json``): ``GET /workflows/?locationId=``, no paging.

``WorkflowSchema``: ``id`` (a UUID), ``name``, ``status`` (``draft`` | ``published``),
``version``, ``createdAt``, ``updatedAt``, ``locationId``. The API only lists them; contacts
join and leave them through ``POST``/``DELETE /contacts/{id}/workflow/{workflowId}``
(``contacts/membership.py``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ok, store_of
from ghlsync.emulator.routes._listing import location_query


async def list_workflows(request: Request) -> Response:
    location_id = location_query(request, "workflows.readonly")
    items = sorted(
        store_of(request).collection(location_id, "workflows"),
        key=lambda workflow: (workflow["createdAt"], workflow["id"]),
    )
    return ok({"workflows": items})


routes: list[BaseRoute] = [Route("/workflows/", list_workflows, methods=["GET"])]
