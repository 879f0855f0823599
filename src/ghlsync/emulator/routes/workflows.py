"""Workflows (``apps/workflows.json``): ``GET /workflows/?locationId=``, no paging.

``WorkflowSchema``: ``id`` (a UUID), ``name``, ``status`` (``draft`` | ``published``),
``version``, ``createdAt``, ``updatedAt``, ``locationId``. The API only lists them; contacts
join and leave them through ``POST``/``DELETE /contacts/{id}/workflow/{workflowId}``
(``contact_membership.py``).
"""

from __future__ import annotations

import random
import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ok, store_of
from ghlsync.emulator.routes._listing import location_query, seed_clock, seeded_times
from ghlsync.emulator.seed import SeedOptions
from ghlsync.emulator.state import LocationState, Store

NAMES = ("New Lead Nurture", "Appointment Reminder", "Birthday Greeting", "Win-back", "Onboarding")


async def list_workflows(request: Request) -> Response:
    location_id = location_query(request, "workflows.readonly")
    items = sorted(
        store_of(request).collection(location_id, "workflows"),
        key=lambda workflow: (workflow["createdAt"], workflow["id"]),
    )
    return ok({"workflows": items})


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    now_ms, span_ms = seed_clock(store, options)
    for index in range(options.count("workflows", 4)):
        added, updated = seeded_times(rng, now_ms, span_ms)
        location.collection("workflows").put(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "name": NAMES[index % len(NAMES)],
                "status": "published" if rng.random() < 0.7 else "draft",
                "version": rng.randrange(1, 6),
                "createdAt": added,
                "updatedAt": updated,
                "locationId": location.id,
            }
        )


routes: list[BaseRoute] = [Route("/workflows/", list_workflows, methods=["GET"])]
