"""HighLevel's API surface, one module per family.

How to add a route module
-------------------------
1. Create ``ghlsync/emulator/routes/<family>.py`` exposing::

       routes: list[BaseRoute]        # starlette Route objects, HighLevel's paths

   and optionally::

       def seed(store: Store, location: LocationState, rng: random.Random,
                options: SeedOptions) -> None: ...

   ``seed`` fills the location's collections (``location.collection("opportunities")``)
   deterministically from ``rng`` (already seeded per location and module). Modules are seeded
   in ``MODULES`` order, so a module listed after ``contacts`` can reference seeded contacts.
   ``options.count("opportunities", default)`` reads per-kind sizes (``--opportunities N``).
2. Add the module's name to ``MODULES`` below.
3. In each handler use the helpers in ``ghlsync.emulator.common``::

       token = require(request, scope="opportunities.readonly", location_id=location_id)
       body = await json_body(request, allowed={...}, required={...})   # 422 on unknown props
       raise ApiError(404, "Opportunity not found")                     # rendered as HighLevel
       store = store_of(request); store.new_id(); store.now()           # ids, ISO-ms timestamps
       store.emit("OpportunityCreate", location_id, body)               # webhooks out

   ``require`` checks the bearer token (401), its kind (sub-account tokens only unless
   ``token_kinds=ANY_TOKEN`` / ``AGENCY_ONLY``, after the spec's security schemes), the
   ``Version`` header (400; pass ``versions=V2021_04_15`` for calendars/conversations), the
   scope (401) and the location (403). Rate limits, faults and the request log are applied around every route by the app.
4. Webhooks out: ``ghlsync/emulator/webhooks.py`` may expose ``attach(app)``; ``create_app``
   calls it, and it subscribes to ``app.state.store`` (``store.subscribe(listener)``) and reads
   ``app.state.settings.webhook_url``.
5. Entities live in ``store.collection(location_id, kind)`` (a dict-like ``Collection`` keyed
   by id; ``delete`` records a tombstone). Never mutate a contact's indexed fields in place:
   ``store.put`` a new dict (contacts keep sorted and duplicate-lookup indexes).
"""

from __future__ import annotations

#: Route modules, in seeding order. Each is ``ghlsync.emulator.routes.<name>``.
MODULES: list[str] = [
    "oauth",
    "locations",
    "custom_fields",
    "contacts",
    "users",
    "opportunities",
    "calendars",
    "conversations",
    "campaigns",
    "workflows",
    "contact_membership",
    "businesses",
    "forms",
    "surveys",
    "invoices",
    "products",
    "payments",
    "object_fields",
    "objects",
    "object_records",
    "associations",
    "custom_values",
]
