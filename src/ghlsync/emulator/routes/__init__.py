"""HighLevel's API surface, one module per family.

How to add a route module
-------------------------
1. Create ``ghlsync/emulator/routes/<family>.py`` exposing::

       routes: list[BaseRoute]        # starlette Route objects, HighLevel's paths

   and add ``*<family>.routes`` to ``API_ROUTES`` in ``ghlsync/emulator/app.py``.
2. Seed data apart from the routes, in ``ghlsync/emulator/seeding/<family>.py``::

       def seed(store: Store, location: LocationState, rng: random.Random,
                options: SeedOptions) -> None: ...

   ``seed`` fills the location's collections (``location.collection("opportunities")``)
   deterministically from ``rng`` (already seeded per location and family). Add it to
   ``SEEDERS`` in ``seeding/run.py``: families are seeded in that order, so one listed after
   ``contacts`` can reference seeded contacts. ``options.count("opportunities", default)``
   reads per-kind sizes (``--opportunities N``). Seeders import from route modules (their
   constants), never the other way round.
3. In each handler use the helpers in ``ghlsync.emulator.common``::

       token = require(request, scope="opportunities.readonly", location_id=location_id)
       body = await json_body(request, allowed={...}, required={...})   # 422 on unknown props
       raise ApiError(404, "Opportunity not found")                     # rendered as HighLevel
       store = store_of(request); store.new_id(); store.now()           # ids, ISO-ms timestamps
       store.emit("OpportunityCreate", location_id, body)               # webhooks out

   ``require`` checks the bearer token (401), its kind (sub-account tokens only unless
   ``token_kinds=ANY_TOKEN`` / ``AGENCY_ONLY``, after the spec's security schemes), the
   ``Version`` header (400; pass ``versions=V2021_04_15`` for calendars/conversations), the
   scope (401) and the location (403). Rate limits, faults and the request log are applied
   around every route by the app.
4. Webhooks out: ``create_app`` calls ``ghlsync.emulator.webhooks.attach(app)``, which
   subscribes to ``app.state.store`` (``store.subscribe(listener)``) and reads
   ``app.state.settings.webhook_url``.
5. Entities live in ``store.collection(location_id, kind)`` (a dict-like ``Collection`` keyed
   by id; ``delete`` records a tombstone). Never mutate a contact's indexed fields in place:
   ``store.put`` a new dict (contacts keep sorted and duplicate-lookup indexes).
"""
